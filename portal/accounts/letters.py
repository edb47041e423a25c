"""The "courrier d'identification" mailed to a provisioned account (seed 000), as a PDF."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import format_date
from fpdf import FPDF

from portal.accounts.models import User

# Common characters of French text that Latin-1 lacks, written with Latin-1 ones.
_LATIN1_EQUIVALENTS = str.maketrans({
    "€": "EUR", "œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "‚": ",", "“": '"', "”": '"', "„": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "•": "-", "≤": "<=", "≥": ">=",
    "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u200b": "", "Ÿ": "Y", "™": "(TM)",
})


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: keep French accents, write the usual others (€, ’, “ ”,
    –, …, œ) with Latin-1 equivalents, replace whatever is left with "?"."""
    return text.translate(_LATIN1_EQUIVALENTS).encode("latin-1", "replace").decode("latin-1")


def write_letter(user: User, temporary_password: str, folder: Path) -> Path:
    cfg = current_app.config
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Courrier d'identification - {user.identifier}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(cfg["PORTAL_OWNER"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, _latin1(cfg["PORTAL_CONTACT"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font("Helvetica", size=11)
    recipient = [f"{user.prenom or ''} {user.nom or ''}".strip(), user.organisation or ""]
    for line in filter(None, recipient):
        pdf.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.ln(10)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 8, _latin1("Courrier d'identification"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.ln(4)
    expires = format_date(user.temp_password_expires_at, "d MMMM yyyy", rebase=False)
    body = (
        f"Madame, Monsieur,\n\nUn compte a été ouvert pour vous sur le portail {cfg['PORTAL_NAME']} "
        f"({cfg['PORTAL_BASE_URL']}). Pour votre première connexion, saisissez l'identifiant et le "
        "mot de passe temporaire ci-dessous sur la page de connexion, puis laissez-vous guider "
        "pour créer votre compte : vous choisirez votre propre mot de passe et confirmerez "
        "votre adresse email."
    )
    pdf.multi_cell(0, 6, _latin1(body), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _latin1(f"Identifiant : {user.identifier}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, _latin1(f"Mot de passe temporaire : {temporary_password}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.ln(4)
    pdf.multi_cell(0, 6, _latin1(
        f"Ce mot de passe temporaire ne sert qu'une fois et expire le {expires}. "
        "Ne le communiquez à personne : nos services ne vous le demanderont jamais."
    ), new_x="LMARGIN", new_y="NEXT")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"courrier-identification-{user.identifier}.pdf"
    pdf.output(str(path))
    return path
