"""Delivery: compressed pages (Flask-Compress) and fingerprinted, precompressed static files
served by WhiteNoise with a year-long ``immutable`` cache.

``build_static`` copies each file of ``static/`` under a name carrying a hash of its content
(``css/portal.3f2a1b4c5d6e.css``) into the build folder, with ``.gz`` and ``.br`` versions made
by WhiteNoise's compressor. It runs at start-up and only writes what is missing, so a fresh
clone, ``serve.sh`` and the tests need no extra step; ``flask static build`` does the same ahead
of time (a deployment whose application folder is read-only runs it at install time).
``url_for('static', filename=…)`` gives the hashed name everywhere (templates, emails). Static
responses never pass through Flask: no session, so no ``Vary: Cookie``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from flask import Flask
from werkzeug.datastructures import Headers

YEAR = 365 * 24 * 3600
HASHED = re.compile(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)$")
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt", ".html", ".map", ".xml"}


def hashed_name(relative: str, data: bytes) -> str:
    """``css/portal.css`` -> ``css/portal.<12 hex digits of its SHA-256>.css``."""
    stem, dot, suffix = relative.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{stem}.{digest}.{suffix}" if dot else f"{relative}.{digest}"


def build_static(source: Path, target: Path) -> dict[str, str]:
    """Fingerprinted and precompressed copies of ``source`` in ``target``; returns the manifest
    (original name -> hashed name). Files are written to a temporary folder and renamed into
    place, so concurrent start-ups (several gunicorn workers) never serve half a file."""
    from whitenoise.compress import Compressor

    manifest: dict[str, str] = {}
    compressor = Compressor(quiet=True)
    target.mkdir(parents=True, exist_ok=True)
    work: Path | None = None  # beside the build folder (same file system), never inside it
    try:
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
            relative = path.relative_to(source).as_posix()
            data = path.read_bytes()
            hashed = hashed_name(relative, data)
            manifest[relative] = hashed
            for name in (hashed, relative):
                done = target / name
                if name == relative and done.exists() and done.read_bytes() == data:
                    continue
                if name == hashed and done.exists():
                    continue
                work = work or Path(tempfile.mkdtemp(prefix=".static-build-", dir=target.parent))
                staged = work / name
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(data)
                made = [staged]
                if path.suffix.lower() in COMPRESSIBLE:
                    made += [Path(p) for p in compressor.compress(str(staged))]
                for item in made:
                    final = target / item.relative_to(work)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(item, final)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    return manifest


def _static_headers(headers: Headers, _path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if HASHED.search(url):  # a new content gets a new name: cache it for a year, never revalidate
        headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"


def build_folder(app: Flask) -> Path:
    """``STATIC_BUILD_DIR``, by default ``instance/static``."""
    return Path(app.config.get("STATIC_BUILD_DIR") or os.environ.get("STATIC_BUILD_DIR")
                or Path(app.instance_path) / "static")


def init_app(app: Flask) -> None:
    """Compression of dynamic responses, WhiteNoise in front of the application for ``/static``."""
    from flask_compress import Compress
    from whitenoise import WhiteNoise

    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    Compress(app)

    target = build_folder(app)
    manifest = build_static(Path(app.static_folder), target)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def fingerprinted_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=str(target), prefix=(app.static_url_path or "/static").strip("/") + "/",
        max_age=3600, immutable_file_test=lambda _path, url: bool(HASHED.search(url)),
        add_headers_function=_static_headers)
    _register_cli(app)


def _register_cli(app: Flask) -> None:
    import click

    @app.cli.group("static")
    def static_group():
        """Static files."""

    @static_group.command("build")
    def build():
        """Fingerprint and precompress static/ into the build folder (also done at start-up)."""
        target = build_folder(app)
        manifest = build_static(Path(app.static_folder), target)
        click.echo(f"{len(manifest)} fichiers statiques prêts dans {target}")
