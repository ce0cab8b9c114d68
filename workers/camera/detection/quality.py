"""Picture-quality diagnosis of one camera sample.

The diagnosis is relative to the camera's own history where that matters
(sharpness, frozen picture), so :class:`CameraQualityState` travels with the
camera between samples; it serialises to a JSON-friendly dict.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np


class QualityProblem(StrEnum):
    """Problems a camera picture can have. Values are stable storage keys."""

    OFFLINE = "offline"
    FROZEN = "frozen"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    OCCLUDED = "occluded"
    BLURRED = "blurred"
    COLOUR_CAST = "colour_cast"


@dataclass(frozen=True)
class QualityThresholds:
    """Tunable limits of the diagnosis; defaults suit 720p-1080p kitchen cameras."""

    # A caller normally retries the stream itself and passes None only once it
    # gave up, so one missing sample already means offline.
    offline_after_missing: int = 1

    thumbnail_width: int = 64
    # Mean absolute grey difference between thumbnails. Area-averaged
    # thumbnails of a live but static scene still differ by sensor noise and
    # encoder jitter (typically > 0.3), a stuck stream repeats bit-identical or
    # re-encoded-identical pictures (< 0.1).
    frozen_epsilon: float = 0.15
    # A thumbnail pixel that changed by more than this shows life: people moving below a cover over most of
    # the lens barely move the mean difference, yet the stream is live.
    frozen_pixel_level: float = 6.0
    frozen_max_changed_share: float = 0.002
    # Number of consecutive near-identical samples (including the first one)
    # before the picture counts as frozen.
    frozen_after: int = 3
    # Normalised (x1, y1, x2, y2) of the camera's on-screen clock, if it has
    # one. A still, empty kitchen can look frozen; its clock cannot, so the
    # comparison then uses only that region.
    frozen_clock_region: tuple[float, float, float, float] | None = None

    # Sharpness is measured at a fixed width so that the number does not
    # depend on the stream resolution.
    analysis_width: int = 640
    blur_ratio: float = 0.35
    blur_absolute_floor: float = 12.0
    # Asymmetric EMA: a sharper picture raises the baseline quickly, a softer
    # one lowers it slowly, so a gradually drifting focus still gets caught.
    baseline_alpha_up: float = 0.2
    baseline_alpha_down: float = 0.02

    dark_mean_luma: float = 40.0
    dark_pixel_level: int = 20
    dark_pixel_share: float = 0.85
    bright_mean_luma: float = 215.0
    clipped_pixel_level: int = 250
    clipped_pixel_share: float = 0.35

    occlusion_grid: tuple[int, int] = (16, 12)
    flat_cell_std: float = 6.0
    flat_cell_edge_share: float = 0.01
    flat_cell_contrast: float = 0.15
    occluded_region_share: float = 0.6
    # A cover leaves some of the picture textured (a flat picture everywhere is a dark room or a lost
    # picture, not a cover).
    occluded_min_textured_share: float = 0.03
    # A dark flat region is a cover only when it is this even (spread of its cells' mean grey levels).
    cover_max_spread: float = 2.0

    # The camera's own normal picture per hour of the day: its mean brightness, learnt from
    # usable samples, quickly upwards (lights on) and slowly downwards, so that lights that go off every
    # night at that hour become normal within days while a light that fails is reported for hours.
    hour_alpha_up: float = 0.05
    hour_alpha_down: float = 0.002
    # The camera counts as normally lit at an hour whose learnt brightness is at least this.
    lit_mean_luma: float = 80.0

    # Mean chroma offset (Lab a/b distance from neutral) and its size relative
    # to the chroma spread: a colourful but correctly balanced scene has a large
    # spread, a cast shifts every pixel the same way.
    cast_min_offset: float = 25.0
    cast_min_ratio: float = 1.3


@dataclass
class CameraQualityState:
    """Per-camera memory of the diagnosis, persisted by the worker between samples."""

    baseline_sharpness: float | None = None
    good_frames: int = 0
    thumbnail: bytes | None = None
    thumbnail_shape: tuple[int, int] | None = None
    thumbnail_hash: str | None = None
    frozen_count: int = 0
    missing_count: int = 0
    # Hour of the day ("0".."23", or "all" without a clock) -> mean luma of the usual picture at that hour.
    hour_baselines: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible types (thumbnail as base64)."""
        # Written every sample: field by field, without ``asdict``'s recursive deep copy.
        return {
            "baseline_sharpness": self.baseline_sharpness,
            "good_frames": self.good_frames,
            "thumbnail": base64.b64encode(self.thumbnail).decode("ascii") if self.thumbnail else None,
            "thumbnail_shape": list(self.thumbnail_shape) if self.thumbnail_shape else None,
            "thumbnail_hash": self.thumbnail_hash,
            "frozen_count": self.frozen_count,
            "missing_count": self.missing_count,
            "hour_baselines": dict(self.hour_baselines),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CameraQualityState:
        """Rebuild from :meth:`to_dict` output; tolerates missing keys (older states)."""
        if not data:
            return cls()
        thumb = data.get("thumbnail")
        shape = data.get("thumbnail_shape")
        baseline = data.get("baseline_sharpness")
        return cls(
            baseline_sharpness=float(baseline) if baseline is not None else None,
            good_frames=int(data.get("good_frames", 0)),
            thumbnail=base64.b64decode(thumb) if thumb else None,
            thumbnail_shape=(int(shape[0]), int(shape[1])) if shape else None,
            thumbnail_hash=data.get("thumbnail_hash"),
            frozen_count=int(data.get("frozen_count", 0)),
            missing_count=int(data.get("missing_count", 0)),
            hour_baselines={str(k): float(v) for k, v in (data.get("hour_baselines") or {}).items()},
        )


@dataclass
class QualityReport:
    """Outcome of one diagnosis: measured metrics plus the problems found."""

    problems: set[QualityProblem] = field(default_factory=set)
    metrics: dict[str, float] = field(default_factory=dict)
    # The picture repeats the last one (not yet long enough to be frozen): it brings no new evidence.
    repeated: bool = False

    @property
    def ok(self) -> bool:
        """True when the picture has no problem at all."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly representation."""
        return {
            "problems": sorted(p.value for p in self.problems),
            "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
        }


def _grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


@dataclass(frozen=True)
class GreyViews:
    """The grey copies of one sample that the diagnosis and the motion gate share, each made once.

    ``analysis`` is the picture at the analysis width (sharpness is measured there: its numbers depend on
    the scale); ``half`` is half of it, made by one fast 2x2 area reduction, where the statistics that do not
    depend on the scale are taken (cover grid, exposure histogram, frozen thumbnail) and from which the
    motion gate makes its small picture.
    """

    analysis: np.ndarray
    half: np.ndarray

    @classmethod
    def of(cls, frame: np.ndarray, width: int) -> GreyViews:
        """The views of a BGR (or grey) frame for the analysis ``width``."""
        analysis = _resize_to_width(_grey(frame), width)
        return cls(analysis, _resize_to_width(analysis, max(1, width // 2)))


def _resize_to_width(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    if w == width:
        return image
    height = max(1, round(h * width / w))
    # Area averaging only pays off (anti-aliasing) from a 2x reduction on; for milder ones it costs five
    # times a linear resize, the largest single cost of the diagnosis.
    interp = cv2.INTER_AREA if width * 2 <= w else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interp)


def _crop(image: np.ndarray, region: tuple[float, float, float, float] | None) -> np.ndarray:
    if region is None:
        return image
    h, w = image.shape[:2]
    x1, y1, x2, y2 = region
    crop = image[
        int(y1 * h) : max(int(y2 * h), int(y1 * h) + 1), int(x1 * w) : max(int(x2 * w), int(x1 * w) + 1)
    ]
    return crop if crop.size else image


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: high for crisp edges, low for defocus/blur."""
    # 16-bit integers hold an 8-bit picture's Laplacian exactly, at half the cost of floats.
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_16S))
    return float(std[0, 0]) ** 2


def _thumbnail_diff(state: CameraQualityState, thumb: np.ndarray,
                    t: QualityThresholds) -> tuple[float | None, float | None]:
    """Mean absolute difference from the last thumbnail, and the share of its pixels that clearly changed."""
    if state.thumbnail is None or state.thumbnail_shape != thumb.shape:
        return None, None
    previous = np.frombuffer(state.thumbnail, dtype=np.uint8).reshape(thumb.shape)
    diff = cv2.absdiff(previous, thumb)
    return float(np.mean(diff)), float(np.count_nonzero(diff > t.frozen_pixel_level)) / diff.size


def _flat_region_share(grey: np.ndarray, t: QualityThresholds) -> tuple[float, float, float, float]:
    """Shares of the frame covered by flat cells and by the largest connected flat region; that region's
    mean brightness and the spread of its cells' brightness.

    A cell is flat when its grey spread and its edges are below the limits, whatever its brightness: a black
    cover is as flat as a grey one. The edge test (Canny, most of this function's cost) can only take cells
    away, so it runs only when the region of the cells flat by spread and contrast could be a cover
    (``occluded_region_share``); otherwise the verdict cannot change and the shares are that region's.
    """
    ys, xs, area = _grid_cells(grey.shape[0], grey.shape[1], *t.occlusion_grid)
    # Per-cell sums from integral pictures, read at the cell corners, cheaper than area-resampling float copies
    # to the grid. std comes from E[x^2] - E[x]^2, exact in 64-bit sums.
    sums, squares = cv2.integral2(grey, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
    mean = _cell_sums(sums, ys, xs) / area
    std = np.sqrt(np.clip(_cell_sums(squares, ys, xs) / area - mean * mean, 0, None))
    # Contrast relative to the cell's brightness: a darkened scene keeps its texture in proportion, a cover
    # (black, grey or skin) has none, only noise.
    flat = (std < t.flat_cell_std) & (std < t.flat_cell_contrast * (mean + 10.0))
    shares = _largest_flat_region(flat, mean)
    if shares[1] < t.occluded_region_share:
        return shares
    edges = cv2.Canny(grey, 50, 150)
    edge_share = _cell_sums(cv2.integral(edges, sdepth=cv2.CV_32S), ys, xs) / (255.0 * area)
    return _largest_flat_region(flat & (edge_share < t.flat_cell_edge_share), mean)


@functools.lru_cache(maxsize=16)
def _grid_cells(height: int, width: int, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel edges of a ``cols`` x ``rows`` grid of whole-pixel cells (the last ones take the remainder) and
    each cell's area; kept per size, as a camera's pictures keep theirs (a handful of small numpy steps cost
    0.15 ms a sample after a model run)."""
    ys = (np.arange(rows + 1) * height) // rows
    xs = (np.arange(cols + 1) * width) // cols
    area = np.outer(np.diff(ys), np.diff(xs)).astype(np.float64)
    for array in (ys, xs, area):
        array.flags.writeable = False
    return ys, xs, area


def _largest_flat_region(flat: np.ndarray, mean: np.ndarray) -> tuple[float, float, float, float]:
    """Shares of the grid's cells that are flat and that form the largest 4-connected flat region; that
    region's mean brightness and the spread of its cells' brightness (``mean``: each cell's)."""
    total = float(flat.size)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(flat.astype(np.uint8), connectivity=4)
    if count <= 1:
        return float(np.count_nonzero(flat)) / total, 0.0, 0.0, 0.0
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    means = mean[labels == biggest]
    return float(np.count_nonzero(flat)) / total, float(means.size) / total, float(means.mean()), float(means.std())


def _cell_sums(integral: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sum of the picture over each grid cell, from its integral picture and the cells' pixel edges."""
    corners = integral[np.ix_(ys, xs)].astype(np.float64)
    return corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]


def _srgb_to_linear() -> np.ndarray:
    """Linear light of each 8-bit sRGB level (the sRGB transfer curve)."""
    level = np.arange(256, dtype=np.float64) / 255.0
    return np.where(level <= 0.04045, level / 12.92, ((level + 0.055) / 1.055) ** 2.4).astype(np.float32)


#: Linear light per 8-bit level, and the matrix from linear B, G, R to X/Xn, Y/Yn, Z/Zn (sRGB primaries, D65
#: white: the figures OpenCV's Lab conversion uses).
_LINEAR_LEVELS = _srgb_to_linear()
_BGR_TO_XYZ_WHITE = np.ascontiguousarray(
    (np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
     / np.array([[0.950456], [1.0], [1.088754]]))[:, ::-1].T, dtype=np.float32)


def lab_chroma(pixels_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CIE Lab a* and b* of each pixel of an 8-bit BGR picture (as OpenCV's float Lab conversion, D65).

    Computed here rather than by ``cv2.cvtColor(..., COLOR_BGR2LAB)``: on the few pixels the cast test
    reads, OpenCV's conversion costs about 0.5 ms the first time after a model run (its tables are out of
    the caches), three times these numpy steps, whatever the pixel count.
    """
    xyz = _LINEAR_LEVELS[pixels_bgr.reshape(-1, 3)] @ _BGR_TO_XYZ_WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), xyz * np.float32(7.787) + np.float32(16.0 / 116.0))
    return 500.0 * (f[:, 0] - f[:, 1]), 200.0 * (f[:, 1] - f[:, 2])


def _colour_cast(frame: np.ndarray) -> tuple[float, float]:
    """Mean chroma offset from neutral in Lab, and offset / chroma spread."""
    a, b = lab_chroma(frame)
    offset = math.hypot(float(a.mean()), float(b.mean()))
    spread = math.hypot(float(a.std()), float(b.std()))
    return offset, offset / max(spread, 1e-3)


def diagnose(
    frame: np.ndarray | None,
    state: CameraQualityState,
    thresholds: QualityThresholds | None = None,
    hour: int | None = None,
    expect_lit: bool = False,
    views: GreyViews | None = None,
) -> QualityReport:
    """Diagnose one sample and update ``state`` in place.

    ``frame`` is a BGR (or grey) image, or None when the caller could not get a frame; ``hour`` is the local
    hour of the day of the sample (the camera's baselines are kept per hour), ``expect_lit`` says the
    kitchen is working (its lights are on); ``views`` are the frame's grey views when the caller made them
    already (:meth:`GreyViews.of` with the thresholds' ``analysis_width``).
    Covered, dark, frozen and offline are told apart whatever the
    hour. Root causes win over their symptoms so that each picture gets the one problem an operator must
    fix: a covered lens is not also reported dark, a badly exposed or covered picture is not also reported
    blurred (it has no texture either), and a frozen picture is only reported frozen.
    """
    t = thresholds or QualityThresholds()
    report = QualityReport()
    if hour is not None:
        report.metrics["hour"] = float(hour)
    if frame is None or frame.size == 0:
        return _missing_frame(state, t, report)
    state.missing_count = 0

    # Everything works on grey copies at a fixed width: cheaper than the full frame and
    # resolution-independent. Only the sharpness needs the larger one.
    views = views or GreyViews.of(frame, t.analysis_width)
    small = views.half
    flat_share, flat_region, region_luma, region_spread = _flat_region_share(small, t)
    report.metrics.update(flat_share=flat_share, flat_region_share=flat_region, flat_region_luma=region_luma,
                          flat_region_spread=region_spread)
    # The cover is looked for first: a black cloth makes the picture dark too, and nothing moves under it so
    # it repeats itself like a frozen stream; dark and still are its symptoms.
    occluded = _occluded(flat_share, flat_region, region_luma, region_spread, t)
    if _frozen(small, state, t, report) and not occluded:
        # Everything else would describe a stale picture: skip it.
        report.problems.add(QualityProblem.FROZEN)
        return report
    report.repeated = state.frozen_count > 0 and not occluded

    sharp = sharpness(views.analysis)
    # Means and shares of the grey levels: the half-width picture tells them as well as the larger one.
    exposure_bad = _exposure_problem(small, sharp, state, t, report, expect_lit)
    if occluded:
        report.problems = {QualityProblem.OCCLUDED}
    # Root causes win over their symptoms: only a well-exposed, unobstructed picture can be blurred or cast.
    clean = not exposure_bad and not occluded
    blurred = clean and _blurred(sharp, state, t)
    if blurred:
        report.problems.add(QualityProblem.BLURRED)
    if clean and frame.ndim == 3 and frame.shape[2] == 3:
        _check_colour_cast(frame, t, report)
    if clean and not blurred:
        _learn_sharpness(state, sharp, t)
    if not occluded and QualityProblem.TOO_DARK not in report.problems and not report.repeated:
        _learn_hour(state, report, t)
    return report


def _missing_frame(state: CameraQualityState, t: QualityThresholds, report: QualityReport) -> QualityReport:
    """No picture: count it, and call the camera offline once enough samples in a row were missing."""
    state.missing_count += 1
    report.metrics["missing_count"] = float(state.missing_count)
    if state.missing_count >= t.offline_after_missing:
        report.problems.add(QualityProblem.OFFLINE)
    return report


def _frozen(grey: np.ndarray, state: CameraQualityState, t: QualityThresholds, report: QualityReport) -> bool:
    """Compare the thumbnail (of the clock region, if any) with the last one; True once frozen long enough."""
    thumb = _resize_to_width(_crop(grey, t.frozen_clock_region), t.thumbnail_width)
    thumb_hash = hashlib.blake2b(thumb.tobytes(), digest_size=8).hexdigest()
    diff, changed = (0.0, 0.0) if thumb_hash == state.thumbnail_hash else _thumbnail_diff(state, thumb, t)
    report.metrics["changed_share"] = -1.0 if changed is None else changed
    if diff is not None and changed is not None and diff < t.frozen_epsilon and changed <= t.frozen_max_changed_share:
        state.frozen_count += 1
    else:
        state.frozen_count = 0
    state.thumbnail = thumb.tobytes()
    state.thumbnail_shape = (int(thumb.shape[0]), int(thumb.shape[1]))
    state.thumbnail_hash = thumb_hash
    report.metrics["thumbnail_diff"] = -1.0 if diff is None else diff
    report.metrics["frozen_count"] = float(state.frozen_count)
    return state.frozen_count + 1 >= t.frozen_after


def _exposure_problem(grey: np.ndarray, sharp: float, state: CameraQualityState, t: QualityThresholds,
                      report: QualityReport, expect_lit: bool) -> bool:
    """Record the exposure metrics (and the sharpness); add too dark or too bright; True when either.

    A dark picture is a fault only when light is expected: during work hours (``expect_lit``), or at an
    hour when this camera's picture is normally lit. A kitchen dark at night is not a fault.
    """
    # One histogram pass gives the mean and both shares.
    histogram = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    mean_luma = float(histogram @ np.arange(256, dtype=np.float64)) / grey.size
    dark_share = float(histogram[: t.dark_pixel_level + 1].sum()) / grey.size
    clipped_share = float(histogram[t.clipped_pixel_level :].sum()) / grey.size
    report.metrics.update(
        mean_luma=mean_luma,
        dark_share=dark_share,
        clipped_share=clipped_share,
        sharpness=sharp,
        baseline_sharpness=state.baseline_sharpness or 0.0,
    )
    if mean_luma < t.dark_mean_luma or dark_share > t.dark_pixel_share:
        report.metrics["dark_scene"] = 1.0
        baseline = state.hour_baselines.get(_hour_key(report))
        if expect_lit or (baseline is not None and baseline >= t.lit_mean_luma):
            report.problems.add(QualityProblem.TOO_DARK)
        return True
    if mean_luma > t.bright_mean_luma or clipped_share > t.clipped_pixel_share:
        report.problems.add(QualityProblem.TOO_BRIGHT)
        return True
    return False


def _blurred(sharp: float, state: CameraQualityState, t: QualityThresholds) -> bool:
    """Below the absolute floor, or well below this camera's own baseline."""
    baseline = state.baseline_sharpness
    return sharp < t.blur_absolute_floor or (baseline is not None and sharp < t.blur_ratio * baseline)


def _check_colour_cast(frame: np.ndarray, t: QualityThresholds, report: QualityReport) -> None:
    """Record the cast metrics of a colour frame and add a colour cast when every pixel is shifted one way."""
    # Only means and spreads are taken, so every n-th pixel of every n-th row will do (a linear resize reads
    # about the same pixels, at eight times the cost). About 80 x 60 of them: on vtest.avi and its colour
    # cast variant the offset and ratio stay within 0.2 and 0.02 of those of 160 x 120, at a quarter of
    # the cost (the Lab conversion is per pixel).
    h, w = frame.shape[:2]
    step = max(1, w // max(1, t.analysis_width // 8))
    offset, ratio = _colour_cast(cv2.resize(frame, (max(1, w // step), max(1, h // step)),
                                            interpolation=cv2.INTER_NEAREST))
    report.metrics.update(cast_offset=offset, cast_ratio=ratio)
    if offset >= t.cast_min_offset and ratio >= t.cast_min_ratio:
        report.problems.add(QualityProblem.COLOUR_CAST)


def _learn_sharpness(state: CameraQualityState, sharp: float, t: QualityThresholds) -> None:
    """Fold a well-exposed, unobstructed, not-blurred sample into the baseline."""
    if state.baseline_sharpness is None:
        state.baseline_sharpness = sharp
    else:
        alpha = t.baseline_alpha_up if sharp > state.baseline_sharpness else t.baseline_alpha_down
        state.baseline_sharpness += alpha * (sharp - state.baseline_sharpness)
    state.good_frames += 1


def _hour_key(report: QualityReport) -> str:
    hour = report.metrics.get("hour")
    return "all" if hour is None else str(int(hour))


def _occluded(flat_share: float, flat_region: float, region_luma: float, region_spread: float,
              t: QualityThresholds) -> bool:
    """One flat region over most of the picture with some texture left, and the region is not a dark room.

    A dark room is flat too, but its darkness varies from place to place; a black cover is one even black.
    """
    if flat_region < t.occluded_region_share or 1.0 - flat_share < t.occluded_min_textured_share:
        return False
    return region_luma >= t.dark_mean_luma or region_spread <= t.cover_max_spread


def _learn_hour(state: CameraQualityState, report: QualityReport, t: QualityThresholds) -> None:
    """Fold a usable sample's brightness into this hour's baseline."""
    key = _hour_key(report)
    luma = report.metrics["mean_luma"]
    baseline = state.hour_baselines.get(key)
    if baseline is None:
        state.hour_baselines[key] = luma
        return
    alpha = t.hour_alpha_up if luma > baseline else t.hour_alpha_down
    state.hour_baselines[key] = baseline + alpha * (luma - baseline)
