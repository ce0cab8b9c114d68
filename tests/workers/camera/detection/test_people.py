"""HOG people detector on a real pedestrian video frame."""

from __future__ import annotations

import numpy as np

from tests.workers.camera.detection.detection_testdata import VTEST_FRAME0_PEOPLE, box_iou, vtest_frame
from workers.camera.detection.people import HogConfig, HogPeopleDetector


def contains_centre(det_box: tuple[float, ...], person: tuple[float, ...]) -> bool:
    cx, cy = (person[0] + person[2]) / 2, (person[1] + person[3]) / 2
    return det_box[0] <= cx <= det_box[2] and det_box[1] <= cy <= det_box[3]


def test_hog_finds_the_walkers_in_vtest() -> None:
    frame = vtest_frame(0)
    detector = HogPeopleDetector(HogConfig(process_width=960))
    people = detector.detect(frame)

    assert all(p.label == "person" and p.source == "hog" for p in people)
    assert all(0.6 <= p.confidence <= 1.0 for p in people)
    found = [gt for gt in VTEST_FRAME0_PEOPLE if any(contains_centre(p.box, gt) for p in people)]
    assert len(found) >= 2, [p.box for p in people]
    # No detection away from the walkers, and boxes are person-sized, in source pixels.
    for p in people:
        assert any(contains_centre(p.box, gt) and box_iou(p.box, gt) > 0.2 for gt in VTEST_FRAME0_PEOPLE), (
            p.box
        )
        assert 0 <= p.box[0] < p.box[2] <= 768 and 0 <= p.box[1] < p.box[3] <= 576
    # Duplicates around the same walker are merged.
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            assert box_iou(a.box, b.box) < 0.45


def test_hog_finds_nobody_in_an_empty_picture() -> None:
    frame = np.full((576, 768, 3), 90, np.uint8)
    assert HogPeopleDetector().detect(frame) == []
