"""Checking uploaded files by their content, whatever the name or declared type: the one check behind every
upload route (record files at ``POST /uploads``, violation photos at ``POST /schools/<id>/violation-photos``).

Each route says which kinds it takes: JPEG, PNG, WebP and PDF for records, the three image kinds for
violation photos. Images are decoded completely (a truncated or corrupt file is refused) and re-encoded
from their pixels alone, which drops EXIF (GPS position, phone model), XMP, comments, text chunks, the ICC
profile (its colours are converted to sRGB first) and anything after the image's end; orientation is applied
first so the photo still looks right. PDFs are parsed and kept byte for byte: they must have pages, must not
be encrypted, and no object anywhere in them may carry scripts, actions that launch, submit, import or open
other files, embedded files, rich media or XFA forms. The walk over the objects is complete and bounded: a
PDF too big to walk is refused.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

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
SRGB_PROFILE = ImageCms.createProfile("sRGB")
# Keys in a PDF whose presence means code to run or files carried inside (scripts, name trees of scripts
# and attachments, a file specification's embedded file, rich media, XFA forms).
PDF_ACTIVE_KEYS = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/EF",
                             "/RichMedia", "/RichMediaContent", "/XFA"})
# (key, name) pairs that mark the same things by type: actions (``/S``) that run code, send form data out or
# open other files, and objects or annotations (``/Type``, ``/Subtype``) that hold files or media.
PDF_ACTIVE_VALUES = frozenset(
    [("/S", name) for name in ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                               "/RichMediaExecute")]
    + [(key, name) for key in ("/Type", "/Subtype") for name in ("/EmbeddedFile", "/FileAttachment", "/RichMedia")])
# The walk over a PDF's objects is bounded: a file that needs more work than this to check is refused.
MAX_PDF_VALUES = 300_000
MAX_PDF_WALK_BYTES = 64 * 1024 * 1024


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


def beyond_budget() -> ApiError:
    """The PDF needs more work to check completely than one upload may take: refused, never accepted."""
    return ApiError(422, "file_corrupt", "PDF 结构过深或对象过多，无法完整检查，不予接收",
                    {"reason": "pdf_walk_budget", "max_values": MAX_PDF_VALUES, "max_bytes": MAX_PDF_WALK_BYTES})


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
    try:
        image = ImageOps.exif_transpose(image)  # keep the photo upright once the orientation tag is gone
    except (SyntaxError, ValueError, OSError, KeyError, TypeError) as exc:
        log.info("ignoring unreadable EXIF: %s", exc)  # the pixels are fine; only the orientation is unknown
    image = _to_srgb(image, image.info.get("icc_profile"))
    # Nothing of the original file but its pixels is carried over: no ICC profile, EXIF, XMP, comments or
    # text chunks (Pillow's savers fall back to ``info`` for some of them), and nothing after the image's end.
    image.info = {}
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "jpeg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=90, optimize=True)
    elif kind == "png":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(out, format="WEBP", quality=90)
    return CheckedFile(kind=kind, data=out.getvalue(), width=image.size[0], height=image.size[1])


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image's colours converted from its embedded profile to sRGB, so the stored copy needs no profile.

    A profile is an arbitrary blob the uploader chose (a ZIP was found riding in one): it is never copied.
    One that littleCMS cannot use is dropped, and the pixels are read as sRGB, as viewers do.
    """
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
            image = image.convert("RGBA")  # palette and high-bit-depth images, keeping any transparency
        alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
        base = image.convert(image.mode[:-1]) if alpha is not None else image
        converted = ImageCms.profileToProfile(base, source, SRGB_PROFILE, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        log.info("dropping an unusable ICC profile: %s", exc)
        return image
    assert converted is not None  # None only when converting in place, which this never asks for
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _check_pdf(data: bytes) -> CheckedFile:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    if b"%%EOF" not in data[-2048:] or b"startxref" not in data[-4096:]:
        raise corrupt("missing trailer")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ApiError(422, "pdf_encrypted", "不支持加密的 PDF 文件")
        active = _pdf_active_content(reader)
        pages = len(reader.pages)
    except ApiError:
        raise
    except LimitReachedError as exc:  # pypdf's own bounds (array sizes, inflated bytes) stop the walk first
        raise beyond_budget() from exc
    except (PyPdfError, KeyError, ValueError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise corrupt(str(exc)[:200]) from exc
    if active:
        raise ApiError(422, "pdf_active_content", "PDF 含有脚本、自动动作或嵌入文件，不予接收", {"found": active})
    if pages < 1:
        raise corrupt("no pages")
    if pages > MAX_PDF_PAGES:
        raise ApiError(422, "pdf_too_many_pages", f"PDF 不能超过 {MAX_PDF_PAGES} 页", {"pages": pages})
    return CheckedFile(kind="pdf", data=data, pages=pages)


def _pdf_active_content(reader: Any) -> list[str]:
    """Names of the active content anywhere in a parsed PDF (scripts, launch and submit actions, attachments).

    The walk visits every object reachable from the trailer and every object the cross-reference tables list
    (a reader that repairs a broken file may find those), iteratively and once each, so page trees, ``/Next``
    chains and reference cycles of any depth are covered and terminate. A file whose walk would exceed the
    budget (``MAX_PDF_VALUES`` values or ``MAX_PDF_WALK_BYTES`` of strings and streams) cannot be judged
    completely and is refused rather than accepted.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    for generation, numbers in reader.xref.items():
        stack.extend(IndirectObject(number, generation, reader) for number in numbers)
    stack.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    values = walked_bytes = 0
    while stack:
        node = stack.pop()
        values += 1
        if values > MAX_PDF_VALUES or walked_bytes > MAX_PDF_WALK_BYTES:
            if found:
                break  # refused for what it holds already
            raise beyond_budget()
        if isinstance(node, IndirectObject):
            ref = (node.idnum, node.generation)
            if ref not in seen:
                seen.add(ref)
                stack.append(reader.get_object(node))
        elif isinstance(node, DictionaryObject):
            for key, value in node.items():
                if key in PDF_ACTIVE_KEYS or (isinstance(value, NameObject) and (key, value) in PDF_ACTIVE_VALUES):
                    found.add(key if key in PDF_ACTIVE_KEYS else str(value))
                stack.append(value)
            if isinstance(node, StreamObject):  # its encoded bytes: decoding them is what the budget bounds
                walked_bytes += len(node._data or b"")
        elif isinstance(node, ArrayObject):
            stack.extend(node)
        elif isinstance(node, (str, bytes)):
            walked_bytes += len(node)
    return sorted(found)

