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


def test_every_person_gets_head_blurred_face_found_or_not() -> None:
    frame = vtest_frame(0)
    person = Detection("person", 0.9, (240.0, 200.0, 300.0, 320.0), "hog")
    safe = parent_safe(frame, [person])
    assert not np.array_equal(crop(safe, (240, 200, 300, 230)), crop(frame, (240, 200, 300, 230)))
    assert np.array_equal(safe[300:, :], frame[300:, :])
    # A face found in the head does not spare the rest of the head.
    face = Detection("face", 0.5, (262.0, 205.0, 270.0, 213.0), "centerface")
    with_face = parent_safe(frame, [person, face])
    assert not np.array_equal(crop(with_face, (240, 215, 255, 230)), crop(frame, (240, 215, 255, 230)))
    assert np.array_equal(parent_safe(frame, []), frame)


def test_make_evidence_returns_decodable_jpegs() -> None:
    image = astronaut_bgr()
    detections = [
        Detection("face", 0.9, ASTRONAUT_FACE, "centerface"),
        Detection("no_mask", 0.8, (170.0, 50.0, 280.0, 190.0), "ppe"),
    ]
    evidence = make_evidence(image, detections)
    for blob in (evidence.annotated_jpeg, evidence.parent_safe_jpeg, evidence.frame_jpeg):
        assert blob[:2] == b"\xff\xd8"
        decoded = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == image.shape
    annotated = cv2.imdecode(np.frombuffer(evidence.annotated_jpeg, np.uint8), cv2.IMREAD_COLOR)
    safe = cv2.imdecode(np.frombuffer(evidence.parent_safe_jpeg, np.uint8), cv2.IMREAD_COLOR)
    inner = (195, 75, 255, 165)
    assert laplacian_var(crop(safe, inner)) < 0.1 * laplacian_var(crop(annotated, inner))
    # The frame as captured: no box drawn where the annotated copy has its red-green border, no blur.
    frame = cv2.imdecode(np.frombuffer(evidence.frame_jpeg, np.uint8), cv2.IMREAD_COLOR)
    edge = (170, 50, 280, 53)  # the top edge of the no_mask box
    assert np.abs(crop(frame, edge).astype(int) - crop(image, edge).astype(int)).mean() < 8
    assert np.abs(crop(annotated, edge).astype(int) - crop(image, edge).astype(int)).mean() > 30
    assert laplacian_var(crop(frame, inner)) > 0.5 * laplacian_var(crop(image, inner))
    assert len(encode_jpeg(image, quality=50)) < len(encode_jpeg(image, quality=95))


def _label_strip(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The label drawn above ``box``: the rows just above its top edge, from its left edge on."""
    x1, y1 = int(box[0]), int(box[1])
    return image[max(0, y1 - 40) : y1 - 1, x1 : x1 + 160]


def test_labels_are_drawn_in_chinese_not_as_missing_glyph_boxes() -> None:
    from PIL import Image, ImageDraw

    from backend.fonts import cjk_font, cjk_font_path
    from workers.camera.detection.evidence import label_text

    assert cjk_font_path() is not None, "install a CJK font: apt-get install fonts-wqy-zenhei"
    frame = vtest_frame(0)
    no_mask = Detection("no_mask", 0.91, (250.0, 220.0, 290.0, 310.0), "ppe")
    person = Detection("person", 0.87, (500.0, 157.0, 530.0, 233.0), "hog")
    assert [label_text(no_mask), label_text(person)] == ["未戴口罩 0.91", "人员 0.87"]
    drawn = draw_detections(frame, [no_mask, person])
    assert not np.array_equal(_label_strip(drawn, no_mask.box), _label_strip(frame, no_mask.box))

    font = cjk_font(18)
    assert font is not None

    def glyph(char: str) -> np.ndarray:
        canvas = Image.new("L", (24, 24), 0)
        ImageDraw.Draw(canvas).text((2, 0), char, font=font, fill=255)
        return np.asarray(canvas)

    # A character no font has (a private-use code point) renders as the font's missing-glyph box ("tofu").
    tofu = glyph("\ue000")
    for char in "未戴口罩人员":
        ink = glyph(char)
        assert ink.sum() > 0 and not np.array_equal(ink, tofu), char
    # Different characters, different pictures: missing glyphs would all be the same box.
    assert len({glyph(c).tobytes() for c in "未戴口罩人员"}) == 6


def test_label_pixels_match_the_chinese_text_rendered_alone() -> None:
    from PIL import Image, ImageDraw

    from backend.fonts import cjk_font

    frame = np.full((576, 768, 3), 255, np.uint8)
    det = Detection("no_mask", 0.91, (250.0, 220.0, 290.0, 310.0), "ppe")
    drawn = draw_detections(frame, [det])
    font = cjk_font(max(12, round(576 / 32)))
    assert font is not None

    def ink_columns(text: str) -> int:
        canvas = Image.new("L", (400, 40), 0)
        ImageDraw.Draw(canvas).text((0, 0), text, font=font, fill=255)
        return int((np.asarray(canvas).max(axis=0) > 128).sum())

    # The black text inside the red label background covers as many columns as the Chinese text does alone,
    # and clearly more than the English label would (so it is not the fallback).
    strip = _label_strip(drawn, det.box)
    black = (strip.max(axis=2) < 128).any(axis=0)
    assert abs(int(black.sum()) - ink_columns("未戴口罩 0.91")) <= 6
    assert ink_columns("未戴口罩 0.91") != ink_columns("no_mask 0.91")
