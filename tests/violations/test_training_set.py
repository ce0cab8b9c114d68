"""Reviewed AI alarms become a YOLO training set (backend/violations/training_set.py), and a model trained on it
comes back through a model card: the round trip is proven with a tiny ONNX model built from the exported labels."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
import time_machine

from backend.accounts import services as accounts
from backend.accounts.models import User
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.schools.services import create_region
from backend.timeutil import SHANGHAI
from backend.violations.models import AlarmReview
from backend.violations.training_set import KIND_LABELS, TRAINING_CLASSES
from tests.violations.alarm_helpers import cameras_of, region_of
from tests.violations.training_helpers import HEIGHT, WIDTH, framed_alarm

CLOCK = datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    """A fixed Tuesday morning, ticking."""
    with time_machine.travel(CLOCK, tick=True):
        yield


def _review(client, headers, violation_id, verdict, reason=None, boxes=None):
    body = {"verdict": verdict, "reason": reason}
    if boxes is not None:
        body["boxes"] = boxes
    return client.post(f"/api/v1/alarms/{violation_id}/review", json=body, headers=headers)


def _seed(client, as_user) -> dict[str, int]:
    """Alarms on three cameras of school 1 and one of school 2, reviewed every way the set distinguishes."""
    staff = as_user("demo-staff-1")
    at = CLOCK - timedelta(hours=1)
    ids = {
        # camera 0: confirmed with the detector's box (a red block where the detector said)
        "detector": framed_alarm(1, 0, "no_mask", at, "a", box=(40, 60, 120, 180)),
        # camera 0: the reviewer corrects the box (the detector's was off)
        "corrected": framed_alarm(1, 0, "smoking", at + timedelta(minutes=1), "b", box=(160, 40, 240, 120),
                                  detector_box=(0, 0, 30, 30)),
        # camera 1: a false alarm: a negative
        "false": framed_alarm(1, 1, "no_mask", at + timedelta(minutes=2), "c"),
        # camera 2: escalated, a person after hours (class "person")
        "person": framed_alarm(1, 2, "person_after_hours", at + timedelta(minutes=3), "d", box=(200, 100, 300, 230)),
        # camera 2: an old alarm without the unmarked frame: left out
        "no_frame": framed_alarm(1, 2, "no_mask", at + timedelta(minutes=4), "e", with_frame=False),
        # camera 1: pending (no verdict): left out
        "pending": framed_alarm(1, 1, "no_hat", at + timedelta(minutes=5), "f", box=(10, 10, 60, 60)),
        # another school's confirmed alarm: never in school 1's set
        "other_school": framed_alarm(2, 0, "no_mask", at, "g", box=(10, 10, 60, 60)),
    }
    assert _review(client, staff, ids["detector"], "confirmed").status_code == 201
    corrected = {"label": "smoking", "x1": 0.5, "y1": 40 / HEIGHT, "x2": 0.75, "y2": 0.5}
    assert _review(client, staff, ids["corrected"], "confirmed", boxes=[corrected]).status_code == 201
    assert _review(client, staff, ids["false"], "false_positive", "是围裙不是口罩").status_code == 201
    assert _review(client, staff, ids["person"], "escalated", "夜间有人").status_code == 201
    assert _review(client, staff, ids["no_frame"], "confirmed").status_code == 201
    assert _review(client, as_user("demo-staff-2"), ids["other_school"], "confirmed").status_code == 201
    return ids


def _lines(archive: zipfile.ZipFile, name: str) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in archive.read(name).decode().splitlines()]


def test_boxes_on_a_verdict_are_validated_and_kept(client, as_user, kitchen):
    staff = as_user("demo-staff-1")
    vid = framed_alarm(1, 0, "no_mask", CLOCK, "v", box=(10, 10, 50, 50))
    bad = [
        [{"label": "no_mask", "x1": 0.5, "y1": 0.1, "x2": 0.4, "y2": 0.3}],  # right edge left of the left one
        [{"label": "no_mask", "x1": 0.1, "y1": 0.1, "x2": 1.4, "y2": 0.3}],  # outside the picture
        [{"label": "camera_offline", "x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.3}],  # not a class of the set
        [],
    ]
    for boxes in bad:
        response = _review(client, staff, vid, "confirmed", boxes=boxes)
        assert response.status_code == 422, boxes
    false = _review(client, staff, vid, "false_positive", "误报", boxes=[
        {"label": "no_mask", "x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.3}])
    assert false.status_code == 422 and false.json["error"]["code"] == "boxes_not_allowed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlarmReview)) == 0
    good = {"label": "no_mask", "x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.3}
    response = _review(client, staff, vid, "confirmed", boxes=[good])
    assert response.status_code == 201 and response.json["alarm"]["review"]["boxes"] == [good]
    assert db.session.scalar(sa.select(AlarmReview.boxes).where(AlarmReview.violation_id == vid)) == [good]


def test_school_set_is_yolo_split_by_camera_with_false_alarms_as_negatives(client, as_user, kitchen):
    ids = _seed(client, as_user)
    response = client.get("/api/v1/schools/1/alarms/training-set", headers=as_user("demo-principal-1"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    images = {n for n in names if n.startswith("images/") and n.endswith(".jpg")}
    assert {Path(n).stem for n in images} == {f"alarm{ids[k]}" for k in ("detector", "corrected", "false", "person")}
    for image in images:  # every image has its label file in the same split
        assert image.replace("images/", "labels/").replace(".jpg", ".txt") in names
    cameras = cameras_of(1)
    split = {part: {int(Path(n).stem[5:]) for n in images if n.startswith(f"images/{part}/")}
             for part in ("train", "val")}
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["cameras"]["train"]).isdisjoint(manifest["cameras"]["val"])
    assert manifest["cameras"]["val"] and manifest["cameras"]["train"]
    by_camera = {ids["detector"]: cameras[0], ids["corrected"]: cameras[0], ids["false"]: cameras[1],
                 ids["person"]: cameras[2]}
    for part in ("train", "val"):
        assert {by_camera[v] for v in split[part]} == set(manifest["cameras"][part])
    assert manifest["skipped"] == {"no_frame": 1, "no_boxes": 0, "unreadable": 0}
    assert (manifest["negatives"], manifest["boxes"]) == (1, 3)

    def label_file(key: str) -> str:
        return next(n for n in names if n.endswith(f"/alarm{ids[key]}.txt"))

    assert archive.read(label_file("false")) == b""  # a false alarm: nothing to see
    [[cls, cx, cy, w, h]] = _lines(archive, label_file("detector"))  # the detector's pixel box, normalised
    assert TRAINING_CLASSES[int(cls)] == "no_mask"
    assert (cx, cy, w, h) == pytest.approx((80 / WIDTH, 120 / HEIGHT, 80 / WIDTH, 120 / HEIGHT), abs=1e-5)
    [[cls, cx, cy, w, h]] = _lines(archive, label_file("corrected"))  # the reviewer's box, not the detector's
    assert TRAINING_CLASSES[int(cls)] == "smoking"
    assert (cx, cy, w, h) == pytest.approx((0.625, (40 / HEIGHT + 0.5) / 2, 0.25, 0.5 - 40 / HEIGHT), abs=1e-5)
    [[cls, *_]] = _lines(archive, label_file("person"))
    assert TRAINING_CLASSES[int(cls)] == "person"
    yaml = archive.read("data.yaml").decode()
    assert "path:" not in yaml  # the folder of data.yaml, wherever the zip is unpacked
    assert "train: images/train" in yaml and "val: images/val" in yaml and f"nc: {len(TRAINING_CLASSES)}" in yaml
    assert all(f"  {i}: {name}" in yaml for i, name in enumerate(TRAINING_CLASSES))
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "alarms.training_export"))
    assert audit.school_id == 1 and audit.details["images"] == {"train": len(split["train"]), "val": len(split["val"])}


def test_who_may_export_and_scopes(client, as_user, kitchen):
    _seed(client, as_user)
    assert client.get("/api/v1/schools/1/alarms/training-set", headers=as_user("demo-staff-1")).status_code == 403
    assert client.get("/api/v1/schools/1/alarms/training-set", headers=as_user("demo-parent-1")).status_code == 403
    assert client.get("/api/v1/schools/1/alarms/training-set",
                      headers=as_user("demo-principal-2")).status_code == 403  # another school's principal
    region = region_of(1)
    regulator = client.get(f"/api/v1/regions/{region}/alarms/training-set", headers=as_user("demo-regulator"))
    assert regulator.status_code == 200
    stems = {Path(n).stem for n in zipfile.ZipFile(io.BytesIO(regulator.data)).namelist() if n.endswith(".jpg")}
    assert len(stems) == 5  # both schools of the county
    other = create_region("330999", "别的区", "county", None)
    outsider = User(openid="other-regulator", nickname="别区监管")
    db.session.add(outsider)
    db.session.flush()
    accounts.grant_regulator(outsider, other, None)
    db.session.commit()
    headers = as_user("other-regulator")
    assert client.get(f"/api/v1/regions/{region}/alarms/training-set", headers=headers).status_code == 403
    assert client.get("/api/v1/schools/1/alarms/training-set", headers=headers).status_code == 403
    empty = client.get(f"/api/v1/regions/{other.id}/alarms/training-set", headers=headers)
    assert empty.status_code == 200
    assert not [n for n in zipfile.ZipFile(io.BytesIO(empty.data)).namelist() if n.endswith(".jpg")]


def _tiny_yolo(label_line: list[float], image_size: tuple[int, int], input_size: int, path: Path) -> None:
    """A YOLOv8-layout ONNX model ([1, 4 + C, 1]) whose one anchor is the exported label's box: its class
    score is how red the picture is inside that box (mean of R - G over it), on the label's class only."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from workers.camera.detection.preprocess import letterbox

    cls, cx, cy, w, h = label_line
    width, height = image_size
    _, info = letterbox(np.zeros((height, width, 3), np.uint8), input_size, input_size)
    x1 = (cx - w / 2) * width * info.scale_x + info.pad_x
    y1 = (cy - h / 2) * height * info.scale_y + info.pad_y
    x2 = (cx + w / 2) * width * info.scale_x + info.pad_x
    y2 = (cy + h / 2) * height * info.scale_y + info.pad_y
    inner = [int(np.ceil(x1)) + 2, int(np.ceil(y1)) + 2, int(np.floor(x2)) - 2, int(np.floor(y2)) - 2]
    classes = len(TRAINING_CLASSES)
    onehot = np.zeros((1, classes, 1), np.float32)
    onehot[0, int(cls), 0] = 1.0
    box = np.array([[[(x1 + x2) / 2], [(y1 + y2) / 2], [x2 - x1], [y2 - y1]]], np.float32)
    consts = {
        "red_starts": [0, 0, inner[1], inner[0]], "red_ends": [1, 1, inner[3], inner[2]],
        "green_starts": [0, 1, inner[1], inner[0]], "green_ends": [1, 2, inner[3], inner[2]],
        "axes": [0, 1, 2, 3],
    }
    initializers = [numpy_helper.from_array(np.array(v, np.int64), name) for name, v in consts.items()]
    initializers += [numpy_helper.from_array(onehot, "onehot"), numpy_helper.from_array(box, "box"),
                     numpy_helper.from_array(np.array([1, 1, 1], np.int64), "score_shape")]
    nodes = [
        helper.make_node("Slice", ["images", "red_starts", "red_ends", "axes"], ["red"]),
        helper.make_node("Slice", ["images", "green_starts", "green_ends", "axes"], ["green"]),
        helper.make_node("Sub", ["red", "green"], ["redness"]),
        helper.make_node("ReduceMean", ["redness"], ["mean"], axes=[0, 1, 2, 3], keepdims=0),
        helper.make_node("Relu", ["mean"], ["score"]),
        helper.make_node("Reshape", ["score", "score_shape"], ["score3"]),
        helper.make_node("Mul", ["score3", "onehot"], ["scores"]),
        helper.make_node("Concat", ["box", "scores"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, input_size, input_size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + classes, 1])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def test_round_trip_a_model_trained_on_the_set_comes_back_through_a_model_card(app, client, as_user, kitchen,
                                                                                 tmp_path):
    ids = _seed(client, as_user)
    out = tmp_path / "set"
    result = app.test_cli_runner().invoke(args=["export-training-set", "--school", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["images"] == {"train": 3, "val": 1}  # camera 2 (1 of 4 images) is val
    assert f"path: {json.dumps(str(out.resolve()))}" in (out / "data.yaml").read_text()
    label_path = next(out.glob(f"labels/*/alarm{ids['detector']}.txt"))
    [line] = [[float(v) for v in row.split()] for row in label_path.read_text().splitlines()]
    image_path = Path(str(label_path).replace("/labels/", "/images/")).with_suffix(".jpg")
    image = cv2.imread(str(image_path))
    assert image.shape[:2] == (HEIGHT, WIDTH)

    cards = tmp_path / "cards"
    cards.mkdir()
    _tiny_yolo(line, (WIDTH, HEIGHT), 320, cards / "kitchen_ppe.onnx")
    (cards / "kitchen_ppe.json").write_text(json.dumps({
        "name": "kitchen_ppe", "version": "trained-on-export", "format": "yolov8", "file": "kitchen_ppe.onnx",
        "input": {"width": 320, "height": 320, "normalize": True, "letterbox": True, "channel_order": "RGB"},
        "classes": {str(i): name for i, name in enumerate(TRAINING_CLASSES)},
        "thresholds": {"confidence": 0.3, "iou": 0.45}}), encoding="utf-8")

    from workers.camera.camera_runtime import load_registry

    registry = load_registry(str(cards))  # as the worker loads MODEL_CARDS_DIR
    detector = registry.detector("kitchen_ppe")
    [found] = detector.detect(image)
    cls, cx, cy, w, h = line
    assert found.label == TRAINING_CLASSES[int(cls)] == KIND_LABELS["no_mask"]
    expected = np.array([(cx - w / 2) * WIDTH, (cy - h / 2) * HEIGHT, (cx + w / 2) * WIDTH, (cy + h / 2) * HEIGHT])
    assert np.abs(np.array(found.box) - expected).max() < 1.0
    assert found.confidence > 0.5
    negative = next(out.glob(f"images/*/alarm{ids['false']}.jpg"))  # the exported negative: nothing found
    assert next(out.glob(f"labels/*/alarm{ids['false']}.txt")).read_text() == ""
    assert detector.detect(cv2.imread(str(negative))) == []


def test_the_unmarked_frame_never_reaches_parents_or_the_committee(client, as_user, kitchen):
    vid = framed_alarm(1, 0, "no_mask", CLOCK - timedelta(minutes=5), "p", box=(10, 10, 60, 60))
    assert _review(client, as_user("demo-staff-1"), vid, "confirmed").status_code == 201
    for who in ("demo-committee-1", "demo-principal-1"):
        response = client.get(f"/api/v1/violations/{vid}", headers=as_user(who))
        assert response.status_code == 200, (who, response.json)
        assert "-frame.jpg" not in response.get_data(as_text=True), who
    public = client.get("/api/v1/schools/1/transparency", headers=as_user("demo-parent-1"))
    assert public.status_code == 200
    assert "-frame.jpg" not in public.get_data(as_text=True)
