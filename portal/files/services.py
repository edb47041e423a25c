"""Uploaded files: checked by their content, stored outside ``static/`` under server-made names.

The browser's file name and declared type are never trusted: the type comes from the bytes,
images are decoded and re-encoded (which drops their metadata), PDFs are parsed, polyglots are
refused, the stored name is random and the original name is kept only as display text.

Bytes are encrypted at rest (AES-256-GCM, key ``FILES_ENCRYPTION_KEY``) and kept behind a small
storage interface: a local folder by default, S3-compatible object storage when configured.

Files follow the database transaction: a file written during a unit of work is removed again if
that unit of work rolls back, and a file deleted during it is removed only once it commits.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import secrets
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from PIL import Image, ImageOps
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage

from portal import db

log = logging.getLogger(__name__)

# Accepted types, recognised by their signature ("magic bytes").
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_IMAGE_PIXELS = 40_000_000  # a 40 Mpx photo is plenty; more is a decompression bomb
# Bounds on a PDF's work: a citizen's scan has a few pages and a few hundred objects.
MAX_PDF_PAGES = 500
MAX_PDF_OBJECTS = 50_000  # objects written in the file, counted cheaply in the request
MAX_PDF_WALK = 100_000  # objects the worker's full check may visit
PDF_CHECK_SECONDS = 10.0  # the worker's full check of one PDF; more is refused as too complex

# Pillow's own bomb limit, explicitly: a warning above it (turned into a refusal), an error
# above twice it. The request already refused an image whose header declares more.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

# Polyglot rule (see ``check_not_polyglot``): markers of another format inside an accepted file.
# Long enough (5+ bytes) that compressed image or PDF data does not contain them by chance.
WEB_MARKERS = re.compile(rb"<script|<html|<!doctype|<iframe|<\?php|<body|<svg[\s>/]|javascript:|<meta[\s>/]"
                         rb"|<object[\s>/]|<embed[\s>/]|<form[\s>/]|<img[\s/]|<a\s+href|<style[\s>/]"
                         rb"|<link[\s/]|<base[\s/]|<frameset|<head>",
                         re.IGNORECASE)
PDF_IN_IMAGE = b"%PDF-"
# PDF names for active content or containers of other files (PDF names are case-sensitive).
ACTIVE_NAMES = ("JavaScript", "JS", "Launch", "EmbeddedFiles?", "EF", "RichMedia\\w*", "XFA", "SubmitForm",
                "ImportData", "GoToR", "GoToE")
PDF_ACTIVE = re.compile(rb"/(" + "|".join(ACTIVE_NAMES).encode() + rb")\b")
ACTIVE_NAME = re.compile("(" + "|".join(ACTIVE_NAMES) + ")")
# A name spelled with #xx escapes (/Java#53cript is /JavaScript to a PDF reader).
ESCAPED_NAME = re.compile(rb"/[^\s/\[\]()<>{}%]*#[0-9A-Fa-f]{2}[^\s/\[\]()<>{}%]*")
PDF_PAGE_COUNT = re.compile(rb"/Count\s+(\d{1,12})")
# Actions and objects a citizen's scan never contains (decided on parsed, decoded names).
FORBIDDEN_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                     "/RichMediaExecute", "/Rendition", "/Movie", "/Sound"}
FORBIDDEN_KEYS = {"/JavaScript", "/JS", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent",
                  "/RichMediaSettings"}
FORBIDDEN_SUBTYPES = {"/RichMedia", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/3D"}


POLYGLOT_MESSAGE = (
    "Le fichier contient du contenu d'un autre format (page web, script ou autre document) : il "
    "est refusé. Enregistrez-le à nouveau en PDF, JPEG ou PNG."
)
# Bidirectional overrides and isolates make "fdp.exe" display as "exe.pdf".
BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
BAD_NAME_MESSAGE = (
    "Le nom du fichier contient des caractères non autorisés (« / », « \\ » ou caractères "
    "invisibles) : renommez le fichier sur votre ordinateur, puis déposez-le à nouveau."
)
BROKEN_IMAGE_MESSAGE = "L'image est endommagée ou incomplète : elle ne peut pas être lue."
ACTIVE_PDF_MESSAGE = (
    "Le fichier PDF contient du contenu actif (script, action automatique ou fichier joint) : il "
    "est refusé. Imprimez-le en PDF (« Imprimer » puis « Enregistrer au format PDF ») et "
    "déposez ce nouveau fichier."
)


TOO_MANY_PIXELS_MESSAGE = "L'image est trop grande (nombre de pixels) : réduisez sa taille."
TOO_COMPLEX_MESSAGE = (
    "Le fichier PDF est trop complexe pour être vérifié (nombre d'objets ou durée d'analyse) : "
    "imprimez-le en PDF (« Imprimer » puis « Enregistrer au format PDF ») et déposez ce nouveau fichier."
)


class UploadRejected(ValueError):
    """The file cannot be accepted; the message is French and meant for the person."""


@dataclass(frozen=True)
class StoredFile:
    key: str  # server-made storage name
    original_name: str  # cleaned, for display and download only
    content_type: str
    size: int
    check_status: str = "pending"  # see portal.files.models: "ok" once the worker checked it


# --- content checks -----------------------------------------------------------------------


def sniff_type(head: bytes) -> str | None:
    for content_type, signatures in SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return content_type
    return None


def clean_filename(name: str | None, content_type: str) -> str:
    """A display name without path separators or control characters, with the true extension."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").split("/")[-1])
    name = "".join(c for c in name if not _unsafe_character(c))
    stem = re.sub(r"\s+", " ", name.rsplit(".", 1)[0]).strip(" .") or "document"
    return stem[:120] + EXTENSIONS[content_type]


def _unsafe_character(c: str) -> bool:
    """Control characters and bidi overrides; joiners (emoji, Persian) are ordinary text."""
    return unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") or unicodedata.bidirectional(c) in BIDI_CONTROLS


def check_filename(name: str) -> None:
    """Browsers send a bare file name: a path or invisible characters mean a forged request."""
    if "/" in name or "\\" in name or any(_unsafe_character(c) for c in name):
        raise UploadRejected(BAD_NAME_MESSAGE)


def max_upload_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def megabytes(size: int) -> str:
    """A size in French, e.g. « 10 Mo », « 1,5 Mo », « 200 Ko »."""
    if size >= 1024 * 1024:
        value = f"{size / (1024 * 1024):.1f}".replace(".0", "").replace(".", ",")
        return f"{value} Mo"
    return f"{max(1, round(size / 1024))} Ko"


def check_not_polyglot(data: bytes, content_type: str) -> None:
    """Refuse a file that is also something else.

    The rule: an image must end where its format says it ends (PNG: the IEND chunk; JPEG: the
    EOI marker, trailing NUL/whitespace padding tolerated), so nothing (a ZIP, a PDF, a page)
    can be appended, and must not contain a PDF header or HTML/script markers anywhere; a PDF
    must end with ``%%EOF`` (whitespace allowed after it), must not contain HTML/script
    markers, and must carry no active content (JavaScript, launch or submit actions, XFA,
    embedded files; also checked on the parsed catalogue in ``check_pdf``, which sees inside
    compressed object streams). A browser or a PDF reader can then only ever see one format.
    """
    if content_type in ("image/png", "image/jpeg"):
        end = b"IEND\xaeB`\x82" if content_type == "image/png" else b"\xff\xd9"
        tail = data if content_type == "image/png" else data.rstrip(b"\x00 \t\r\n")
        if end not in data:
            raise UploadRejected(BROKEN_IMAGE_MESSAGE)
        if not tail.endswith(end):
            raise UploadRejected("Le fichier contient des données après la fin de l'image : il est refusé.")
    elif content_type == "application/pdf" and not data.rstrip(b"\x00 \t\r\n").endswith(b"%%EOF"):
        if b"%%EOF" not in data:
            raise UploadRejected("Le fichier PDF est incomplet ou endommagé.")
        raise UploadRejected("Le fichier contient des données après la fin du PDF : il est refusé.")
    if content_type != "application/pdf" and PDF_IN_IMAGE in data:
        raise UploadRejected(POLYGLOT_MESSAGE)
    if WEB_MARKERS.search(data) or is_zip(data):
        raise UploadRejected(POLYGLOT_MESSAGE)
    if content_type == "application/pdf" and (PDF_ACTIVE.search(data) or _escaped_active_name(data)):
        raise UploadRejected(ACTIVE_PDF_MESSAGE)


def is_zip(data: bytes) -> bool:
    """A ZIP hidden in the file (its directory at the end, or its entries and directory inside):
    a browser or an archive tool would open the HTML page it holds."""
    if b"PK\x05\x06" not in data:
        return False
    return zipfile.is_zipfile(io.BytesIO(data)) or b"PK\x03\x04" in data or b"PK\x01\x02" in data


def decode_name(raw: bytes) -> str:
    """A PDF name as a reader sees it: ``#xx`` escapes decoded (``/Java#53cript``)."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw).decode("latin-1")


def _escaped_active_name(data: bytes) -> bool:
    return any(ACTIVE_NAME.fullmatch(decode_name(m.group())[1:]) for m in ESCAPED_NAME.finditer(data))


def screen_pdf(data: bytes) -> None:
    """The request's cheap look at a PDF: its declared page tree and its number of objects."""
    declared = max((int(m) for m in PDF_PAGE_COUNT.findall(data)), default=0)
    if declared > MAX_PDF_PAGES:
        raise UploadRejected(f"Le fichier PDF compte trop de pages ({declared}) : {MAX_PDF_PAGES} au plus.")
    if data.count(b" obj") > MAX_PDF_OBJECTS:
        raise UploadRejected(TOO_COMPLEX_MESSAGE)


def screen_image(data: bytes, content_type: str) -> None:
    """The request's cheap look at an image: its header only, never its pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header, decodes nothing
                kind, (width, height) = probe.format, probe.size
    except Image.DecompressionBombError as exc:
        raise UploadRejected(TOO_MANY_PIXELS_MESSAGE) from exc
    except Exception as exc:  # Pillow raises many types for broken headers
        raise UploadRejected(BROKEN_IMAGE_MESSAGE) from exc
    if kind != PILLOW_FORMATS[content_type]:
        raise UploadRejected("Le contenu du fichier ne correspond pas à une image valide.")
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadRejected(TOO_MANY_PIXELS_MESSAGE)


def check_pdf(data: bytes) -> None:
    """A PDF must have its header, its end marker, a cross-reference and at least one page,
    and no active content anywhere in its objects (decided on parsed, decoded names)."""
    if b"%%EOF" not in data[-2048:] or b"startxref" not in data[-4096:]:
        raise UploadRejected("Le fichier PDF est incomplet ou endommagé.")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UploadRejected("Le fichier PDF est protégé par un mot de passe : enregistrez-le sans protection.")
            reader.trailer["/Root"].get_object()["/Pages"]  # a document, not just bytes: else KeyError
            pages = walk_pdf(reader, time.monotonic() + PDF_CHECK_SECONDS)
            if pages < 1:
                raise UploadRejected("Le fichier PDF ne contient aucune page.")
    except UploadRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        raise UploadRejected("Le fichier PDF est incomplet ou endommagé.") from exc


def walk_pdf(reader, deadline: float) -> int:
    """Visit every object reachable from the trailer, once, within bounds; returns the number
    of pages. Refuses active content wherever it hides: under ``/Next`` chains, in annotations,
    in the name tree, in object streams (pypdf decodes ``#xx`` in names)."""
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DictionaryObject,
        IndirectObject,
        TextStringObject,
    )

    seen: set[tuple[int, int]] = set()
    stack: list = [reader.trailer]
    visited = pages = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_PDF_WALK or time.monotonic() > deadline:
            raise UploadRejected(TOO_COMPLEX_MESSAGE)
        if isinstance(obj, DictionaryObject):
            if _is_active(obj):
                raise UploadRejected(ACTIVE_PDF_MESSAGE)
            if obj.get("/Type") == "/Page":
                pages += 1
                if pages > MAX_PDF_PAGES:
                    raise UploadRejected(f"Le fichier PDF compte trop de pages : {MAX_PDF_PAGES} au plus.")
            stack.extend(value for key, value in obj.items() if key != "/Parent")
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
        elif isinstance(obj, TextStringObject | ByteStringObject) and WEB_MARKERS.search(
                obj if isinstance(obj, bytes) else obj.encode("utf-8", "replace")):
            raise UploadRejected(POLYGLOT_MESSAGE)
    return pages


def _is_active(obj) -> bool:
    """One dictionary: an action, a key or an annotation a citizen's document never needs,
    or an action that runs by itself (opening the document or a page) and opens an address."""
    if obj.get("/S") in FORBIDDEN_ACTIONS or obj.get("/Subtype") in FORBIDDEN_SUBTYPES:
        return True
    if obj.get("/Type") in ("/EmbeddedFile", "/RichMediaContent") or any(k in obj for k in FORBIDDEN_KEYS):
        return True
    if obj.get("/Type") in ("/Catalog", "/Page") and "/AA" in obj:
        return True  # actions on opening, closing, printing the document or a page
    automatic = [obj.get("/OpenAction")]
    additional = obj.get("/AA")
    additional = additional.get_object() if additional is not None else None
    if hasattr(additional, "values"):
        automatic.extend(additional.values())
    return any(_opens_address(action) for action in automatic if action is not None)


def _opens_address(action, depth: int = 0) -> bool:
    """An automatic action, or one of its ``/Next`` followers, that opens a URI."""
    action = action.get_object()
    if depth > 50:
        return True  # a chain that long is not a citizen's document
    if isinstance(action, list):
        return any(_opens_address(a, depth + 1) for a in action)
    if not hasattr(action, "get"):
        return False
    if action.get("/S") == "/URI":
        return True
    following = action.get("/Next")
    return following is not None and _opens_address(following, depth + 1)


def reencode_image(data: bytes, content_type: str) -> bytes:
    """Decode the image fully and write a fresh one: no EXIF (location, device), no comments."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != PILLOW_FORMATS[content_type]:
                    raise UploadRejected("Le contenu du fichier ne correspond pas à une image valide.")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)  # keep the photo upright without EXIF
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(TOO_MANY_PIXELS_MESSAGE) from exc
    except Exception as exc:  # Pillow raises many types for broken files
        raise UploadRejected(BROKEN_IMAGE_MESSAGE) from exc
    # Only the colour profile and transparency survive; comments, text chunks, EXIF, XMP and
    # thumbnails do not.
    image.info = {k: v for k, v in image.info.items() if k in ("icc_profile", "transparency")}
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def read_upload(upload: FileStorage | None) -> tuple[bytes, str, str]:
    """Validate an upload fully, here and now; returns (data ready to store, content_type,
    clean display name). Requests do not call it: they ``screen_upload`` and the worker
    ``check_content`` the stored bytes (see portal.files.checks)."""
    data, _content_type, _name = screen_upload(upload)
    return check_content(data, upload.filename)


def screen_upload(upload: FileStorage | None) -> tuple[bytes, str, str]:
    """The request's checks, all cheap (no parsing, no decoding): a name, a size, a known
    signature, an image header or a page tree within bounds. Returns (data, type, name)."""
    if upload is None or not upload.filename:
        raise UploadRejected("Sélectionnez un fichier.")
    check_filename(upload.filename)
    limit = max_upload_bytes()
    data = upload.stream.read(limit + 1)
    if not data:
        raise UploadRejected("Le fichier est vide.")
    if len(data) > limit:
        raise UploadRejected(f"Le fichier dépasse la taille maximale de {megabytes(limit)}.")
    return screen_content(data, upload.filename)


def screen_content(data: bytes, filename: str | None) -> tuple[bytes, str, str]:
    if not data:
        raise UploadRejected("Le fichier est vide.")
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise UploadRejected("Le fichier doit être au format PDF, JPEG ou PNG (d'après son contenu).")
    if content_type == "application/pdf":
        screen_pdf(data)
    else:
        screen_image(data, content_type)
    return data, content_type, clean_filename(filename, content_type)


def check_content(data: bytes, filename: str | None) -> tuple[bytes, str, str]:
    """The full check (the worker's): polyglots, active content, a parse of the PDF or a
    decode and re-encode of the image. Returns the bytes to keep, the type and the name."""
    data, content_type, name = screen_content(data, filename)
    check_not_polyglot(data, content_type)
    if content_type == "application/pdf":
        check_pdf(data)
    else:
        data = reencode_image(data, content_type)
    return data, content_type, name


# --- encryption at rest -------------------------------------------------------------------

MAGIC = b"GCH1"


def _keys() -> list[bytes]:
    """The configured keys: the first encrypts, all decrypt (so a key can be rotated)."""
    raw = current_app.config.get("FILES_ENCRYPTION_KEY") or ""
    return [decode_key(part) for part in raw.split(",") if part.strip()]


def decode_key(text: str) -> bytes:
    key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    if len(key) != 32:
        raise ValueError("FILES_ENCRYPTION_KEY must be 32 bytes, base64url-encoded")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


def encrypt(data: bytes, name: str) -> bytes:
    """AES-256-GCM; the storage name is authenticated so files cannot be swapped."""
    key = _keys()[0]
    nonce = secrets.token_bytes(12)
    return MAGIC + _key_id(key) + nonce + AESGCM(key).encrypt(nonce, data, name.encode())


def decrypt(blob: bytes, name: str) -> bytes:
    if not blob.startswith(MAGIC):
        raise ValueError("not an encrypted Guichet file")
    key_id, nonce, sealed = blob[4:8], blob[8:20], blob[20:]
    for key in _keys():
        if _key_id(key) == key_id:
            return AESGCM(key).decrypt(nonce, sealed, name.encode())
    raise ValueError("no configured key can decrypt this file")


# --- storage backends ---------------------------------------------------------------------


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def listing(self) -> Iterator[tuple[str, datetime]]: ...


KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,80}")


def _checked(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError("invalid storage key")
    return key


class LocalStorage:
    """A folder outside ``static/`` (``UPLOAD_FOLDER``, by default ``instance/uploads``)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_suffix(".part")
        try:
            tmp.write_bytes(data)
            tmp.chmod(0o600)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        path.with_suffix(".part").unlink(missing_ok=True)  # a write a crash cut short

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with its last change; a ``.part`` left by a crash counts as its key."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            key = path.name.removesuffix(".part")
            if KEY_PATTERN.fullmatch(key) and path.is_file():
                yield key, datetime.fromtimestamp(path.stat().st_mtime, UTC)


class S3Storage:
    """An S3-compatible bucket (AWS, OVH, Scaleway, MinIO, Garage…)."""

    def __init__(self, bucket: str, prefix: str = "", **client_options):
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", **{k: v for k, v in client_options.items() if v})

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + _checked(key), Body=data,
                               ContentType="application/octet-stream")

    def get(self, key: str) -> bytes:
        answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(key))
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + _checked(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + _checked(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def listing(self) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix):]
                if KEY_PATTERN.fullmatch(key):
                    yield key, item["LastModified"]


def storage_root() -> Path:
    return Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")


def make_storage(config) -> Storage:
    if config.get("FILES_STORAGE", "local") == "s3":
        return S3Storage(
            config["S3_BUCKET"], config.get("S3_PREFIX", ""),
            endpoint_url=config.get("S3_ENDPOINT_URL"), region_name=config.get("S3_REGION"),
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID"),
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
        )
    return LocalStorage(storage_root())


def get_storage() -> Storage:
    """The application's storage, built once from its configuration."""
    storage = current_app.extensions.get("file_storage")
    if storage is None:
        storage = current_app.extensions["file_storage"] = make_storage(current_app.config)
    return storage


# --- files that follow the transaction ------------------------------------------------------

_NEW = "files_written"
_DOOMED = "files_to_delete"


def _delete_quietly(storage: Storage, key: str) -> None:
    """Cleanup after the fact must not turn a finished unit of work into an error."""
    try:
        storage.delete(key)
    except Exception:  # storage unreachable: the orphan is logged, the answer stands
        log.exception("could not delete stored file %s", key)


def _after_commit(session) -> None:
    session.info.pop(_NEW, None)
    for storage, key in session.info.pop(_DOOMED, []):
        _delete_quietly(storage, key)


def _after_rollback(session, _previous) -> None:
    if session.in_transaction():
        return  # a savepoint rolled back, the unit of work goes on
    session.info.pop(_DOOMED, None)
    for storage, key in session.info.pop(_NEW, []):
        _delete_quietly(storage, key)


def init_app(app: Flask) -> None:
    """Tie stored files to the session's transactions (once per process); the worker's check
    of pending files registers itself as a task."""
    from portal.files import checks  # noqa: F401 - registers the ``check_pending_files`` task

    factory = db.session.session_factory
    if not event.contains(factory, "after_commit", _after_commit):
        event.listen(factory, "after_commit", _after_commit)
        event.listen(factory, "after_soft_rollback", _after_rollback)


def store_bytes(data: bytes) -> str:
    """Encrypt and store; the file disappears again if the current transaction rolls back."""
    storage = get_storage()
    key = secrets.token_urlsafe(24)
    if not db.session().in_transaction():
        db.session.connection()  # begin the unit of work this file belongs to
    db.session.info.setdefault(_NEW, []).append((storage, key))
    storage.put(key, encrypt(data, key))
    return key


def store_upload(upload: FileStorage | None) -> StoredFile:
    """Screen and store an upload, pending the worker's full check."""
    data, content_type, name = screen_upload(upload)
    return StoredFile(store_bytes(data), name, content_type, len(data))


def load_bytes(key: str) -> bytes:
    return decrypt(get_storage().get(key), key)


def copy_stored(stored: StoredFile, original_name: str | None = None) -> StoredFile:
    """An independent copy (new key, re-encrypted): deleting one leaves the other whole."""
    data = load_bytes(stored.key)
    return StoredFile(store_bytes(data), original_name or stored.original_name,
                      stored.content_type, len(data), stored.check_status)


def delete_stored(key: str) -> None:
    """Delete once the current transaction commits (at once if nothing is pending)."""
    storage = get_storage()
    if db.session().in_transaction():
        db.session.info.setdefault(_DOOMED, []).append((storage, key))
    else:
        storage.delete(key)


def stored_exists(key: str) -> bool:
    return get_storage().exists(key)


# --- orphans ----------------------------------------------------------------------------------


def referenced_keys() -> set[str]:
    """Keys still in use: by convention, every table's ``storage_key`` column holds one."""
    keys: set[str] = set()
    for table in db.Base.metadata.tables.values():
        column = table.c.get("storage_key")
        if column is not None:
            keys.update(db.session.scalars(select(column)))
    return keys


def sweep_orphans(grace: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Remove stored files no row refers to (a crash between writing and committing, a storage
    outage during a deletion). Only files older than ``grace``: a unit of work in progress
    may have written a file it has not committed yet."""
    storage = get_storage()
    cutoff = (now or db.utcnow()) - grace
    stale = {key for key, modified in storage.listing() if modified < cutoff}
    if not stale:
        return 0
    orphans = stale - referenced_keys()
    for key in orphans:
        _delete_quietly(storage, key)
    if orphans:
        log.info("removed %d orphaned stored file(s)", len(orphans))
    return len(orphans)
