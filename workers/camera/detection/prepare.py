"""Making the ONNX files of model cards that ship their model in another format (``convert`` in the card).

Run at install (``make install`` and the Docker image call ``python -m workers.camera.detection.prepare
--force``) so that a worker never converts while sampling; a worker that finds the file missing converts at
first use. ``--force`` remakes an existing file: pip does not remove it with the package it sits in (it is not
in the wheel's RECORD), so a new version of the package would otherwise keep the old conversion.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


def convert_card_model(source: Path, target: Path, card_source: str) -> None:
    """Convert ``source`` (Keras HDF5) to ``target`` unless another thread already did."""
    from .keras_onnx import ConversionError, convert_file
    from .onnx_models import ModelCardError

    with _LOCK:
        if target.is_file():
            return
        if not source.is_file():
            raise ModelCardError(f"{card_source}: model to convert not found: {source}")
        started = time.perf_counter()
        try:
            convert_file(source, target)
        except (ConversionError, OSError) as exc:
            raise ModelCardError(f"{card_source}: cannot convert {source} to {target}: {exc}") from exc
        log.info("converted %s to %s in %.0f ms", source, target, (time.perf_counter() - started) * 1000)


def main(argv: list[str] | None = None) -> int:
    """Make the ONNX file of every bundled card that converts (``--force`` remakes existing ones)."""
    from .onnx_models import ModelCardError, ModelRegistry

    force = "--force" in (argv if argv is not None else sys.argv[1:])
    registry = ModelRegistry.bundled()
    failed = 0
    for name in registry.names():
        card = registry.card(name)
        if card.convert_from is None:
            continue
        try:
            target = card.resolve_path(card.file)
            if force:
                target.unlink(missing_ok=True)
            print(f"{card.source}: {card.resolve_file()}")
        except ModelCardError as exc:
            print(f"{card.source}: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
