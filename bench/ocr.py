"""Field accuracy and cost of reading certificate photos offline (backend/records/certificate_reader.py).

    .venv/bin/python bench/ocr.py [--limit N]

Renders every test certificate (tests/records/certificate_images.py: four kinds, two of each, three layouts)
in every phone-photo variant (clean, tilted, upside down, noisy, blurred, a small JPEG on a table), reads each
like the API does, and prints the share of fields read right (number, holder, valid from, valid until,
issuer, long-term) per variant and in all, and the time per photo on one core: the engine runs one
intra-op thread, so the CPU time of the process per photo is that figure whatever else loads the machine
(the wall time beside it shows the load).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.records.certificate_reader import read_certificate  # noqa: E402
from tests.records.certificate_images import VARIANTS, degrade, jpeg_bytes, render, sample_certificates  # noqa: E402

FIELDS = ("number", "holder", "valid_from", "valid_until", "issuer", "long_term")


def main() -> None:
    """Read the whole set and print accuracy per variant, per field, and the cost per photo."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="read at most this many photos (0: all)")
    args = parser.parse_args()
    read_certificate(jpeg_bytes(render(sample_certificates()[0], 0)), "business_licence")  # builds the engine
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    per_field: dict[str, int] = defaultdict(int)
    cpu, wall = [], []
    photos = [(index, cert, layout, variant) for index, cert in enumerate(sample_certificates())
              for layout in range(3) for variant in VARIANTS]
    if args.limit:
        photos = photos[:: max(1, len(photos) // args.limit)][: args.limit]
    for index, cert, layout, variant in photos:
        photo = jpeg_bytes(degrade(render(cert, layout), variant, seed=index))
        started_cpu, started = time.process_time(), time.perf_counter()
        read = read_certificate(photo, cert.kind).fields.as_json()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        truth = cert.truth()
        for name in FIELDS:
            ok = read[name] == truth[name]
            right[variant] += ok
            per_field[name] += ok
            total[variant] += 1
    print(f"certificate photos read: {len(cpu)} ({len(sample_certificates())} certificates × 3 layouts × "
          f"{len(VARIANTS)} variants)")
    for variant in VARIANTS:
        if total[variant]:
            print(f"  {variant:<12} fields right {right[variant] / total[variant]:6.1%}")
    all_right, all_total = sum(right.values()), sum(total.values())
    print("  by field: " + ", ".join(f"{name} {per_field[name] / (all_total / len(FIELDS)):.1%}" for name in FIELDS))
    print(f"field accuracy: {all_right / all_total:.1%} ({all_right}/{all_total})")
    print(f"per photo on one core: CPU median {statistics.median(cpu):.2f} s, p90 "
          f"{sorted(cpu)[int(len(cpu) * 0.9)]:.2f} s; wall median {statistics.median(wall):.2f} s")


if __name__ == "__main__":
    main()
