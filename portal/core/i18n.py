"""Templates' gettext with two corrections Flask-Babel does not make.

- French plural: 0 and 1 take the singular (« 0 démarche trouvée »); French is the source
  language, so no catalogue carries its plural rule and gettext's default (``n == 1``) is wrong.
- Honest ``lang``: in another language, a page whose main content is mostly untranslated French
  text marks that content ``lang="fr"`` (``content_lang``), instead of claiming English for it.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context
from flask_babel import get_locale, get_translations


def _language() -> str:
    locale = get_locale() if has_request_context() else None
    return locale.language if locale else "fr"


def _count(source: str, translated: str) -> None:
    if has_request_context() and _language() != "fr":
        counts = g.setdefault("i18n_counts", [0, 0])  # [translated, untranslated]
        counts[translated == source] += 1


def gettext(message: str) -> str:
    translated = get_translations().ugettext(message)
    _count(message, translated)
    return translated


def ngettext(singular: str, plural: str, n: int) -> str:
    if _language() == "fr":
        return singular if abs(n) < 2 else plural
    translated = get_translations().ungettext(singular, plural, n)
    _count(singular if n == 1 else plural, translated)
    return translated


def i18n_mark() -> tuple[int, int]:
    """The counts so far, to compare after rendering a block."""
    counts = g.get("i18n_counts", [0, 0]) if has_request_context() else [0, 0]
    return counts[0], counts[1]


def content_lang(before: tuple[int, int]) -> str:
    """``fr`` when the block rendered since ``before`` is mostly French left untranslated."""
    now = i18n_mark()
    translated, untranslated = now[0] - before[0], now[1] - before[1]
    return "fr" if _language() != "fr" and untranslated > translated else ""


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)
    app.jinja_env.globals.update(i18n_mark=i18n_mark, content_lang=content_lang)
