"""Sample files for the wallet tests: real PDFs and images, and the bad ones."""

from __future__ import annotations

import io

from fpdf import FPDF
from PIL import Image


def pdf_bytes(text: str = "Justificatif de domicile") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def png_bytes(size: tuple[int, int] = (40, 30), colour: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_metadata() -> bytes:
    """A photo carrying a device name and a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0110] = "ModelWithSerial123"  # Model
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}  # GPS IFD
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG", exif=exif.tobytes(), comment=b"GPS home")
    return out.getvalue()


def upload(data: bytes, name: str = "document.pdf"):
    return (io.BytesIO(data), name)


def big_pdf(kilobytes: int) -> bytes:
    """A real, uncompressed PDF of about ``kilobytes`` KB."""
    pdf = FPDF()
    pdf.set_compression(False)
    pdf.set_font("helvetica", size=6)
    line = "Ligne de remplissage pour un document volumineux. " * 3
    pdf.add_page()
    for _ in range(kilobytes * 1024 // (len(line) + 30)):
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def run_file_checks(app) -> dict:
    """The worker's pass over uploaded files waiting for their full check."""
    from portal.files.checks import check_pending

    with app.app_context():
        return check_pending(limit=1000)
