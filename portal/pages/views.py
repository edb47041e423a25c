"""Home page, legal and help pages, the theme stylesheet and the language choice."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, redirect, request, session
from flask_login import current_user

from portal.accounts.forms import LoginForm
from portal.accounts.models import LANGUAGES
from portal.core.web import render_page, safe_next

bp = Blueprint("pages", __name__)

STATIC_PAGES = {
    "mentions-legales": "pages/mentions_legales.html",
    "cgu": "pages/cgu.html",
    "plan-du-site": "pages/plan_du_site.html",
    "accessibilite": "pages/accessibilite.html",
    "cookies": "pages/cookies.html",
    "donnees-personnelles": "pages/donnees_personnelles.html",
}


@bp.get("/")
def home():
    form = None if current_user.is_authenticated else LoginForm()
    return render_page("pages/home.html", form=form)


@bp.get("/<any(" + ",".join(f'"{slug}"' for slug in STATIC_PAGES) + "):slug>")
def static_page(slug: str):
    extra = {}
    if slug == "plan-du-site":  # every procedure's page, the questionnaire included
        from portal.demarches import procedures

        extra["site_procedures"] = sorted(procedures().values(), key=lambda p: (p.kind != "procedure", p.title))
    return render_page(STATIC_PAGES[slug], **extra)


@bp.get("/theme.css")
def theme_css():
    """Deployment colours as CSS custom properties (no inline style under the CSP)."""
    cfg = current_app.config
    css = (
        ":root{"
        f"--primary:{_colour(cfg['PORTAL_PRIMARY_COLOUR'])};"
        f"--accent:{_colour(cfg['PORTAL_ACCENT_COLOUR'])};"
        "}\n"
    )
    response = make_response(css)
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _colour(value: str) -> str:
    value = value.strip()
    if len(value) in (4, 7) and value.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in value[1:]):
        return value
    abort(500, "PORTAL_*_COLOUR doit être une couleur hexadécimale comme #1d4f91")


@bp.post("/langue")
def set_language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.language = lang  # kept for the next login and for emails
    return redirect(safe_next(request.form.get("next"), "pages.home"), code=303)
