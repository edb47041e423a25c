"""Request helpers shared by every blueprint: rendering with htmx fragments, redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, make_response, redirect, render_template, request, url_for
from jinja2 import Template


def wants_fragment(target: str | None = None) -> bool:
    """An htmx swap (not a boosted link, not a history restore) aimed at ``target`` if given."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted or htmx.history_restore_request:
        return False
    return target is None or request.headers.get("HX-Target") == target


def render_page(template_name: str, block: str | None = None, target: str | None = None,
                status: int = 200, **context) -> Response:
    """The whole page, or only ``block`` when an htmx swap aims at the element ``target``.

    Plain requests, boosted links and history restores always get the full page.
    A block rendered alone does not run the template's top-level statements: macros it
    uses must be imported inside the block.
    """
    if block and wants_fragment(target):
        template: Template = current_app.jinja_env.get_template(template_name)
        current_app.update_template_context(context)
        body = "".join(template.blocks[block](template.new_context(context)))
    else:
        body = render_template(template_name, **context)
    return make_response(body, status)


def form_status(form) -> int:
    """200 for a form shown for the first time, 422 when it comes back with errors."""
    return 422 if form.errors else 200


def see_other(endpoint: str, **values) -> Response:
    """Post/Redirect/Get: 303 so the browser follows with a GET."""
    return redirect(url_for(endpoint, **values), code=303)


def safe_next(target: str | None, default_endpoint: str = "accounts.login") -> str:
    """A local path to go back to; anything pointing elsewhere falls back to the default."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for(default_endpoint)
