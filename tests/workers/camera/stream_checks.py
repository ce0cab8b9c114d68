"""Checks for frames read from live streams: is this a frame of the demo video, and which one?"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from workers.demo_media import demo_video

VIDEO_SHAPE = (576, 768, 3)  # vtest.avi: 768x576, colour
THUMB_SIZE = (96, 72)


def _thumb(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)


@lru_cache(maxsize=1)
def _video_thumbs() -> np.ndarray:
    capture = cv2.VideoCapture(str(demo_video()))
    thumbs = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        thumbs.append(_thumb(frame))
    capture.release()
    return np.stack(thumbs)


def closest_video_frame(frame: np.ndarray) -> tuple[int, float]:
    """The index of the demo video's frame most like ``frame`` and their mean grey difference (0-255)."""
    diffs = np.abs(_video_thumbs() - _thumb(frame)).mean(axis=(1, 2))
    index = int(diffs.argmin())
    return index, float(diffs[index])


def assert_demo_frame(frame: np.ndarray | None) -> int:
    """``frame`` is a full-size frame of the demo video (through H.264); returns which one."""
    assert frame is not None
    assert frame.shape == VIDEO_SHAPE
    index, diff = closest_video_frame(frame)
    assert diff < 6.0, f"not a frame of the demo video (closest frame {index} differs by {diff:.1f})"
    return index
