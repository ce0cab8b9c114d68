"""Detection engine for the kitchen cameras: picture quality, motion gate, detectors, evidence.

Pure library: no web framework, no database. Scheduled workers call
:func:`analyse_sample` per camera sample and apply the violation rules
themselves.
"""

from .cv_threads import limit_cv_threads
from .evidence import EvidenceImages, draw_detections, encode_jpeg, make_evidence, parent_safe
from .motion import MotionConfig, MotionGate, MotionResult, MotionState, should_run_model
from .onnx_models import ModelCard, ModelCardError, ModelRegistry, OnnxDetector
from .people import HogConfig, HogPeopleDetector
from .pipeline import CameraState, PipelineConfig, SampleResult, analyse_sample
from .quality import CameraQualityState, QualityProblem, QualityReport, QualityThresholds, diagnose
from .types import KNOWN_LABELS, Box, Detection, Detector

__all__ = [
    "KNOWN_LABELS",
    "Box",
    "CameraQualityState",
    "CameraState",
    "Detection",
    "Detector",
    "EvidenceImages",
    "HogConfig",
    "HogPeopleDetector",
    "ModelCard",
    "ModelCardError",
    "ModelRegistry",
    "MotionConfig",
    "MotionGate",
    "MotionResult",
    "MotionState",
    "OnnxDetector",
    "PipelineConfig",
    "QualityProblem",
    "QualityReport",
    "QualityThresholds",
    "SampleResult",
    "analyse_sample",
    "diagnose",
    "draw_detections",
    "encode_jpeg",
    "limit_cv_threads",
    "make_evidence",
    "parent_safe",
    "should_run_model",
]
