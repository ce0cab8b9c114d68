"""The PDF check walks every object a reader can reach, however deep, long or looped, within a budget: scripts,
launch/submit/import/remote actions, attachments, rich media and XFA are refused wherever they hide, and a file
too big to walk completely is refused, never accepted. Benign documents still pass."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject

from backend.content import MAX_PDF_VALUES, check_file
from backend.errors import ApiError
from tests.records.helpers import raw_pdf

LIMIT = 10 * 1024 * 1024
JS = b"<< /S /JavaScript /JS (app.alert(1);) >>"


def refused(data: bytes) -> ApiError:
    """The error the content check raises for ``data`` (the test fails if the file is accepted)."""
    with pytest.raises(ApiError) as caught:
        check_file(data, LIMIT)
    return caught.value


def found(data: bytes) -> list[str]:
    """What the check names as active content in a refused PDF."""
    error = refused(data)
    assert (error.status_code, error.code) == (422, "pdf_active_content"), (error.code, error.detail)
    return error.detail["found"]


def one_page(catalog_extra: bytes = b"", page_extra: bytes = b"", *more: bytes) -> bytes:
    """Catalog (1), page tree (2), one page (3), then ``more`` objects from number 4."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
                   b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] " + page_extra + b" >>", *more)


def test_attached_file_in_a_file_attachment_annotation_is_refused():
    zip_stream = b"<< /Type /EmbeddedFile /Length 4 >>\nstream\nPK\x03\x04\nendstream"
    document = one_page(b"", b"/Annots [4 0 R]",
                        b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS 5 0 R >>",
                        b"<< /Type /Filespec /F (a.zip) /EF << /F 6 0 R >> >>", zip_stream)
    assert {"/EF", "/EmbeddedFile", "/FileAttachment"} <= set(found(document))
    # The same file specification hung under an innocent-looking text note, its stream untyped: still /EF.
    hidden = one_page(b"", b"/Annots [4 0 R]", b"<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /FS 5 0 R >>",
                      b"<< /Type /Filespec /F (a.zip) /EF << /F 6 0 R >> >>",
                      b"<< /Length 4 >>\nstream\nPK\x03\x04\nendstream")
    assert found(hidden) == ["/EF"]


def test_attachments_name_tree_from_pypdf_is_refused():
    writer = PdfWriter()
    writer.add_blank_page(200, 100)
    writer.add_attachment("payload.zip", b"PK\x03\x04 not really")
    out = io.BytesIO()
    writer.write(out)
    assert {"/EmbeddedFiles", "/EF", "/EmbeddedFile"} <= set(found(out.getvalue()))


def test_javascript_at_the_end_of_a_long_next_chain_is_refused():
    length = 40
    chain = [b"<< /S /URI /URI (https://example.org/%d) /Next %d 0 R >>" % (i, 5 + i) for i in range(length)]
    document = one_page(b"/OpenAction 4 0 R", b"", *chain, JS)
    assert "/JavaScript" in found(document)
    # Without the script at its end the same chain is a benign document.
    benign = one_page(b"/OpenAction 4 0 R", b"", *chain, b"<< /S /URI /URI (https://example.org/end) >>")
    assert check_file(benign, LIMIT).pages == 1


def test_page_additional_action_under_a_deep_page_tree_is_refused():
    depth = 60
    # Object 1 catalog, 2..depth+1 nested page-tree nodes, then the page and its script.
    page, script = depth + 2, depth + 3
    nodes = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (n + 1, b" /Parent %d 0 R" % (n - 1) if n > 2 else b"")
             for n in range(2, depth + 2)]
    document = raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *nodes,
                       b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 10 10] /AA << /O %d 0 R >> >>"
                       % (depth + 1, script), JS)
    assert page == len(nodes) + 2
    assert "/JavaScript" in found(document)


@pytest.mark.parametrize(("action", "name"), [
    (b"<< /S /Launch /F (cmd.exe) >>", "/Launch"),
    (b"<< /S /SubmitForm /F (https://example.org/collect) >>", "/SubmitForm"),
    (b"<< /S /ImportData /F (data.fdf) >>", "/ImportData"),
    (b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>", "/GoToR"),
    (b"<< /S /GoToE /T << /R /C /N (a) >> /D [0 /Fit] >>", "/GoToE"),
    (b"<< /S /Java#53cript /JS (app.alert(1);) >>", "/JavaScript"),  # a name spelt with an escape
])
def test_actions_that_run_code_send_data_or_open_files_are_refused(action, name):
    in_open_action = one_page(b"/OpenAction 4 0 R", b"", action)
    assert name in found(in_open_action)
    in_link = one_page(b"", b"/Annots [4 0 R]", b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 5 0 R >>", action)
    assert name in found(in_link)
    in_catalog_aa = one_page(b"/AA << /WC 4 0 R >>", b"", action)
    assert name in found(in_catalog_aa)


def test_document_level_scripts_rich_media_and_xfa_are_refused():
    names_tree = one_page(b"/Names << /JavaScript 4 0 R >>", b"", b"<< /Names [(init) 5 0 R] >>", JS)
    assert {"/JavaScript", "/JS"} <= set(found(names_tree))
    rich_media = one_page(b"", b"/Annots [4 0 R]",
                          b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] /RichMediaContent << >> >>")
    assert {"/RichMedia", "/RichMediaContent"} <= set(found(rich_media))
    xfa = one_page(b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"", b"<< /Length 7 >>\nstream\n<xdp/>\nendstream")
    assert found(xfa) == ["/XFA"]


def test_reference_cycles_terminate_and_scripts_behind_them_are_found():
    # 4 -> 5 -> 6 -> 4 through a private key readers ignore, with the page also pointing into the loop.
    cycle = [b"<< /Next 5 0 R >>", b"<< /Next 6 0 R >>", b"<< /Next 4 0 R /Other 4 0 R >>"]
    assert check_file(one_page(b"/PieceInfo 4 0 R", b"/PieceInfo 5 0 R", *cycle), LIMIT).pages == 1
    looped_script = [b"<< /Next 5 0 R >>", b"<< /Next 6 0 R >>", b"<< /Next 4 0 R /Then 7 0 R >>", JS]
    assert "/JavaScript" in found(one_page(b"/OpenAction 4 0 R", b"", *looped_script))


def test_script_in_an_object_no_reference_reaches_is_refused():
    # A repairing reader rebuilds the cross-reference table and may find it, so the walk covers every
    # object the tables list, not only those reachable from the trailer.
    assert "/JavaScript" in found(one_page(b"", b"", JS))


def with_object_stream(plain: list[bytes], packed: list[bytes]) -> bytes:
    """Objects ``1..n`` written plainly, then the ``packed`` ones (numbered from ``n + 2``) deflated inside one
    object stream (number ``n + 1``), and a cross-reference stream (PDF 1.5) that locates them all."""
    out = bytearray(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    stream_number = len(plain) + 1
    first = stream_number + 1
    header = b" ".join(b"%d %d" % (first + i, sum(len(p) + 1 for p in packed[:i])) for i in range(len(packed))) + b" "
    content = zlib.compress(header + b"".join(p + b"\n" for p in packed))
    bodies = [*plain, b"<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
              % (len(packed), len(header), len(content)) + content + b"\nendstream"]
    for number, body in enumerate(bodies, start=1):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_number = first + len(packed)
    offsets[xref_number] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for number in range(1, xref_number + 1):
        if number in offsets:
            rows.append(struct.pack(">BIH", 1, offsets[number], 0))
        else:
            rows.append(struct.pack(">BIH", 2, stream_number, number - first))
    table = b"".join(rows)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
            % (xref_number, xref_number + 1, len(table)) + table + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def test_script_inside_a_compressed_object_stream_is_refused():
    plain = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
             b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"]
    packed = [b"<< /S /URI /URI (https://example.org) /Next 6 0 R >>", JS]
    document = with_object_stream(plain, packed)
    assert b"JavaScript" not in document  # only visible once the object stream is inflated
    assert "/JavaScript" in found(document)
    benign = with_object_stream(plain, [packed[0].replace(b" /Next 6 0 R", b""), b"<< /Whatever 1 >>"])
    assert check_file(benign, LIMIT).pages == 1


def test_object_bomb_beyond_the_walk_budget_is_refused_not_accepted():
    # Arrays of arrays holding more values than the walk may visit (a small file: two bytes a value), each
    # within pypdf's own limit on one array, reached from the page through /PieceInfo.
    parts = MAX_PDF_VALUES // 10_000 + 1
    chunk = b"[" + b" ".join(b"0" for _ in range(10_000)) + b"]"
    index = b"[" + b" ".join(b"%d 0 R" % (5 + i) for i in range(parts)) + b"]"
    document = one_page(b"", b"/PieceInfo 4 0 R", index, *[chunk] * parts)
    assert len(document) < LIMIT
    error = refused(document)
    assert (error.status_code, error.code) == (422, "file_corrupt")
    assert error.detail["reason"] == "pdf_walk_budget"
    assert error.message == "PDF 结构过深或对象过多，无法完整检查，不予接收"


def test_page_tree_too_deep_to_read_is_refused_not_accepted():
    depth = 3000
    nodes = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, depth + 2)]
    document = raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *nodes,
                       b"<< /Type /Page /MediaBox [0 0 10 10] >>")
    error = refused(document)
    assert (error.status_code, error.code) == (422, "file_corrupt")


def test_benign_documents_pass():
    # Several pages of photos, as a scanner or Pillow writes them.
    pages = [Image.new("RGB", (300, 200), color) for color in ((250, 250, 250), (200, 30, 30), (30, 30, 200))]
    scanned = io.BytesIO()
    pages[0].save(scanned, format="PDF", save_all=True, append_images=pages[1:])
    assert check_file(scanned.getvalue(), LIMIT).pages == 3
    # Links to a web page and to another page of the same document, plus an outline.
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(200, 100)
    uri = DictionaryObject({NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.org")})
    goto = DictionaryObject({NameObject("/S"): NameObject("/GoTo"),
                             NameObject("/D"): ArrayObject([writer.pages[1].indirect_reference, NameObject("/Fit")])})
    for action in (uri, goto):
        writer.add_annotation(0, DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(0), FloatObject(0), NumberObject(50), NumberObject(20)]),
            NameObject("/A"): action}))
    writer.add_outline_item(title="第二页", page_number=1)
    linked = io.BytesIO()
    writer.write(linked)
    checked = check_file(linked.getvalue(), LIMIT)
    assert checked.pages == 2 and checked.data == linked.getvalue()
