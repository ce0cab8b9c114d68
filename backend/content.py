"""Checking uploaded files by their content, whatever the name or declared type: the one check behind every
upload route (record files at ``POST /uploads``, violation photos at ``POST /schools/<id>/violation-photos``).

Each route says which kinds it takes: JPEG, PNG, WebP and PDF for records, the three image kinds for
violation photos. Images are decoded completely (a truncated or corrupt file is refused) and re-encoded,
which drops EXIF (GPS position, phone model) and any other metadata; orientation is applied first so the
photo still looks right. PDFs are parsed: they must have pages, must not be encrypted and must not carry
scripts, launch actions or embedded files.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Collection
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import ApiError

log = logging.getLogger(__name__)

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "pdf": "application/pdf"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "pdf": "pdf"}
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
IMAGE_KINDS = frozenset(PIL_FORMATS)
ALL_KINDS = frozenset(CONTENT_TYPES)
MAX_PIXELS = 50_000_000        # decoding more than this is a decompression bomb, not a phone photo
MAX_SIDE = 4096                # larger photos are scaled down when re-encoded
MAX_PDF_PAGES = 200
# Names in a PDF that make it run code or carry other files when opened.
PDF_ACTIVE_KEYS = ("/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA")


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the content checks, as it will be stored."""

    kind: str
    data: bytes
    width: int | None = None
    height: int | None = None
    pages: int | None = None

    @property
    def content_type(self) -> str:
        """The MIME type of the stored bytes."""
        return CONTENT_TYPES[self.kind]

    @property
    def extension(self) -> str:
        """The file extension of the stored object."""
        return EXTENSIONS[self.kind]


def unsupported(kinds: Collection[str] = ALL_KINDS) -> ApiError:
    """The file is none of the accepted kinds."""
    accepted = [kind for kind in CONTENT_TYPES if kind in kinds]
    names = "、".join(kind.upper() if kind != "webp" else "WebP" for kind in accepted if kind in IMAGE_KINDS)
    message = f"仅支持 {names} 图片和 PDF 文件" if "pdf" in kinds else f"仅支持 {names} 格式的图片"
    return ApiError(415, "unsupported_file_type", message, {"accepted": [CONTENT_TYPES[k] for k in accepted]})


def corrupt(reason: str) -> ApiError:
    """The file claims an accepted type but cannot be read."""
    return ApiError(422, "file_corrupt", "文件已损坏或不完整，请重新拍摄或选择文件", {"reason": reason})


def sniff(data: bytes) -> str | None:
    """The file type from its first bytes (magic numbers), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def check_size(size: int, max_bytes: int) -> None:
    """Refuse empty files and files over the limit."""
    if size == 0:
        raise ApiError(422, "file_empty", "文件为空")
    if size > max_bytes:
        raise ApiError(413, "file_too_large", f"文件不能超过 {max_bytes // (1024 * 1024)} MB",
                       {"max_bytes": max_bytes, "size": size})


def check_file(data: bytes, max_bytes: int, kinds: Collection[str] = ALL_KINDS) -> CheckedFile:
    """Check a file by content and return what to store (images re-encoded without metadata).

    ``kinds`` are the accepted kinds (``IMAGE_KINDS`` for photos only); anything else is 415.
    """
    check_size(len(data), max_bytes)
    kind = sniff(data)
    if kind is None or kind not in kinds:
        raise unsupported(kinds)
    if kind == "pdf":
        return _check_pdf(data)
    return _reencode_image(data, kind)


def _reencode_image(data: bytes, kind: str) -> CheckedFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[PIL_FORMATS[kind]])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ApiError(422, "image_too_large", "图片像素过大", {"width": width, "height": height})
            image.load()  # decodes every byte: truncated or corrupt data raises here
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise corrupt(str(exc)[:200]) from exc
    image = ImageOps.exif_transpose(image)  # keep the photo upright once the orientation tag is gone
    icc_profile = image.info.get("icc_profile")
    image.info = {}  # nothing of the original metadata (EXIF, XMP, text chunks) is carried over
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if kind == "jpeg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=90, optimize=True, **options)
    elif kind == "png":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True, **options)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(out, format="WEBP", quality=90, **options)
    return CheckedFile(kind=kind, data=out.getvalue(), width=image.size[0], height=image.size[1])


def _check_pdf(data: bytes) -> CheckedFile:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%%EOF" not in data[-2048:] or b"startxref" not in data[-4096:]:
        raise corrupt("missing trailer")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ApiError(422, "pdf_encrypted", "不支持加密的 PDF 文件")
        pages = len(reader.pages)
        catalog = reader.trailer["/Root"].get_object()
        active = _pdf_active_content(catalog, reader)
    except ApiError:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise corrupt(str(exc)[:200]) from exc
    if pages < 1:
        raise corrupt("no pages")
    if pages > MAX_PDF_PAGES:
        raise ApiError(422, "pdf_too_many_pages", f"PDF 不能超过 {MAX_PDF_PAGES} 页", {"pages": pages})
    if active:
        raise ApiError(422, "pdf_active_content", "PDF 含有脚本、自动动作或嵌入文件，不予接收", {"found": active})
    return CheckedFile(kind="pdf", data=data, pages=pages)


def _pdf_active_content(catalog: object, reader: object) -> list[str]:
    """Names of active content in the document catalog and its pages (scripts, launch actions, attachments)."""
    found: set[str] = set()
    seen: set[int] = set()

    def walk(node: object, depth: int) -> None:
        if depth > 12:
            return
        node = node.get_object() if hasattr(node, "get_object") else node
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if key in PDF_ACTIVE_KEYS or (key == "/S" and value in ("/JavaScript", "/Launch")):
                    found.add(str(value) if key == "/S" else key)
                if key in ("/Parent", "/Contents", "/Resources"):
                    continue  # page trees loop back; content streams hold no actions
                walk(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                walk(value, depth + 1)

    walk(catalog, 0)
    for page in reader.pages:  # type: ignore[attr-defined]
        walk(page, 0)
    return sorted(found)
