"""The CJK font the server draws Chinese with (evidence labels, printed sample labels): Debian's
fonts-wqy-zenhei (scripts/system_packages.sh), else another common CJK font if one is installed."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

#: CJK fonts looked for, first found wins.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """The first installed CJK font of :data:`CJK_FONT_CANDIDATES`, or None."""
    found = next((path for path in CJK_FONT_CANDIDATES if Path(path).is_file()), None)
    if found is None:
        log.warning("no CJK font installed (apt-get install fonts-wqy-zenhei): Chinese cannot be drawn")
    return found


@lru_cache(maxsize=16)
def cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    """The CJK font at ``size`` pixels, or None when none is installed."""
    path = cjk_font_path()
    return ImageFont.truetype(path, size) if path else None
