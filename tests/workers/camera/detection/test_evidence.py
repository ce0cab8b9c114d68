"""Evidence pictures: boxes drawn where detections are, faces made unrecognisable."""

from __future__ import annotations

import cv2
import numpy as np

from tests.workers.camera.detection.detection_testdata import ASTRONAUT_FACE, astronaut_bgr, vtest_frame
from workers.camera.detection.evidence import draw_detections, encode_jpeg, make_evidence, parent_safe
from workers.camera.detection.types import Detection


def laplacian_var(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    x1, y1, x2, y2 = (int(v) for v in box)
    return image[y1:y2, x1:x2]


def test_drawn_boxes_change_pixels_on_the_box_edges_only() -> None:
    frame = vtest_frame(0)
    det = Detection("no_hat", 0.87, (250.0, 220.0, 290.0, 310.0), "test")
    drawn = draw_detections(frame, [det])
    assert drawn.shape == frame.shape
    assert not np.array_equal(drawn, frame)
    assert np.array_equal(frame, vtest_frame(0)), "input frame must not be modified"
    # The box outline is drawn in the label colour...
    assert (drawn[260, 250] != frame[260, 250]).any()
    assert (drawn[310, 270] != frame[310, 270]).any()
    # ...and far away from the box nothing changed.
    assert np.array_equal(drawn[400:, 400:], frame[400:, 400:])
    assert np.array_equal(drawn[:150, :200], frame[:150, :200])


def test_face_region_is_unrecognisable_in_parent_safe_copy() -> None:
    image = astronaut_bgr()
    face = Detection("face", 0.9, ASTRONAUT_FACE, "test")
    safe = parent_safe(image, [face])
    before = laplacian_var(crop(image, ASTRONAUT_FACE))
    after = laplacian_var(crop(safe, ASTRONAUT_FACE))
    assert after < before * 0.1, (before, after)
    # Outside the (slightly enlarged) face the picture is untouched.
    assert np.array_equal(safe[300:, :], image[300:, :])


def test_person_without_face_gets_head_blurred() -> None:
    frame = vtest_frame(0)
    person = Detection("person", 0.9, (240.0, 200.0, 300.0, 320.0), "hog")
    safe = parent_safe(frame, [person])
    assert not np.array_equal(crop(safe, (240, 200, 300, 230)), crop(frame, (240, 200, 300, 230)))
    assert np.array_equal(safe[300:, :], frame[300:, :])
    untouched = parent_safe(frame, [person], blur_heads_without_face=False)
    assert np.array_equal(untouched, frame)


def test_make_evidence_returns_decodable_jpegs() -> None:
    image = astronaut_bgr()
    detections = [
        Detection("face", 0.9, ASTRONAUT_FACE, "centerface"),
        Detection("no_mask", 0.8, (170.0, 50.0, 280.0, 190.0), "ppe"),
    ]
    evidence = make_evidence(image, detections)
    for blob in (evidence.annotated_jpeg, evidence.parent_safe_jpeg):
        assert blob[:2] == b"\xff\xd8"
        decoded = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == image.shape
    annotated = cv2.imdecode(np.frombuffer(evidence.annotated_jpeg, np.uint8), cv2.IMREAD_COLOR)
    safe = cv2.imdecode(np.frombuffer(evidence.parent_safe_jpeg, np.uint8), cv2.IMREAD_COLOR)
    inner = (195, 75, 255, 165)
    assert laplacian_var(crop(safe, inner)) < 0.1 * laplacian_var(crop(annotated, inner))
    assert len(encode_jpeg(image, quality=50)) < len(encode_jpeg(image, quality=95))
