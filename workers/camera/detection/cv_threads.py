"""Process-level settings for worker processes that run the detection engine."""

from __future__ import annotations

import cv2


def limit_cv_threads(threads: int = 1) -> None:
    """Cap OpenCV's internal thread pool.

    Several detection workers share two cores; OpenCV's default pool of one
    thread per core per process oversubscribes them. ONNX Runtime sessions are
    already created single-threaded (see ``onnx_models.session_options``).
    """
    cv2.setNumThreads(max(1, int(threads)))
