"""Uploaded files: checked by their content, stored outside ``static/`` under server-made names.

The browser's file name and declared type are never trusted: the type comes from the first
bytes, the stored name is random, and the original name is kept only as display text.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

# Accepted types, recognised by their signature ("magic bytes").
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class UploadRejected(ValueError):
    """The file cannot be accepted; the message is French and meant for the person."""


@dataclass(frozen=True)
class StoredFile:
    key: str  # server-made storage name
    original_name: str  # cleaned, for display and download only
    content_type: str
    size: int


def sniff_type(head: bytes) -> str | None:
    for content_type, signatures in SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return content_type
    return None


def clean_filename(name: str | None, content_type: str) -> str:
    """A display name without path separators or control characters, with the true extension."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").split("/")[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    stem = re.sub(r"\s+", " ", name.rsplit(".", 1)[0]).strip(" .") or "document"
    return stem[:120] + EXTENSIONS[content_type]


def max_upload_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def read_upload(upload: FileStorage | None) -> tuple[bytes, str, str]:
    """Validate an upload; returns (data, content_type, clean display name)."""
    if upload is None or not upload.filename:
        raise UploadRejected("Sélectionnez un fichier.")
    limit = max_upload_bytes()
    data = upload.stream.read(limit + 1)
    if not data:
        raise UploadRejected("Le fichier est vide.")
    if len(data) > limit:
        raise UploadRejected(f"Le fichier dépasse la taille maximale de {limit // (1024 * 1024)} Mo.")
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise UploadRejected("Le fichier doit être au format PDF, JPEG ou PNG.")
    if content_type == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise UploadRejected("Le fichier PDF est incomplet ou endommagé.")
    return data, content_type, clean_filename(upload.filename, content_type)


def storage_root() -> Path:
    root = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _path(key: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,80}", key):
        raise ValueError("invalid storage key")
    return storage_root() / key


def store_bytes(data: bytes) -> str:
    key = secrets.token_urlsafe(24)
    path = _path(key)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return key


def store_upload(upload: FileStorage | None) -> StoredFile:
    data, content_type, name = read_upload(upload)
    return StoredFile(store_bytes(data), name, content_type, len(data))


def load_bytes(key: str) -> bytes:
    return _path(key).read_bytes()


def delete_stored(key: str) -> None:
    _path(key).unlink(missing_ok=True)
