"""Domain operations on accounts. They add to the request's transaction; they never commit.

Every operation that could reveal whether an address or identifier exists returns
the same outcome either way; the difference only shows in the email that is sent.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, g, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from portal import db
from portal.accounts.models import (
    LANGUAGES,
    AccountRequest,
    AuthSession,
    LoginThrottle,
    Token,
    User,
)
from portal.accounts.passwords import hash_password, verify_password
from portal.db import utcnow
from portal.mail.services import absolute_url, queue_email
from portal.notifications.services import add_to_inbox

TOKEN_LIFETIMES = {
    "register": timedelta(hours=48),
    "reset": timedelta(hours=1),
    "email_change": timedelta(hours=48),
}
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_by_login(login: str) -> User | None:
    """The login is an email address or the account's 15-digit identifier."""
    login = login.strip()
    if "@" in login:
        return db.session.scalar(select(User).where(User.email == normalise_email(login)))
    return db.session.scalar(select(User).where(User.identifier == login.replace(" ", "")))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def new_identifier() -> str:
    """A random 15-digit identifier such as 100011701060005, unique in the database."""
    while True:
        candidate = "1" + "".join(secrets.choice("0123456789") for _ in range(14))
        if db.session.scalar(select(User.id).where(User.identifier == candidate)) is None:
            return candidate


# --- tokens -----------------------------------------------------------------------------


def issue_token(purpose: str, email: str, user: User | None = None) -> str:
    secret = secrets.token_urlsafe(32)
    db.session.add(
        Token(
            purpose=purpose,
            token_hash=_digest(secret),
            user_id=user.id if user else None,
            email=normalise_email(email),
            expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
        )
    )
    return secret


def find_token(purpose: str, secret: str) -> Token | None:
    """A token that is of this purpose, unused and unexpired; None otherwise."""
    token = db.session.scalar(
        select(Token).where(Token.token_hash == _digest(secret), Token.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def _spend(token: Token) -> None:
    token.used_at = utcnow()


# --- requests decided by the worker (no timing difference between accounts) ------------

ACCOUNT_REQUEST_KINDS = ("register", "password_reset", "identifier_reminder")


def record_account_request(kind: str, login: str) -> None:
    """The only work a "create my account" / "forgotten …" request does: one row, the same
    row whether or not the account exists. The worker decides and queues the email."""
    from flask_babel import get_locale

    assert kind in ACCOUNT_REQUEST_KINDS
    db.session.add(AccountRequest(kind=kind, login=login.strip()[:320], locale=str(get_locale() or "fr")))


def process_account_requests(limit: int = 100) -> int:
    """Worker: send what each recorded request calls for, one transaction per request."""
    done = 0
    for request_id in db.session.scalars(select(AccountRequest.id).order_by(AccountRequest.id).limit(limit)).all():
        row = db.claim(select(AccountRequest).where(AccountRequest.id == request_id))
        if row is None:  # another worker has it
            continue
        with current_app.test_request_context(), force_locale(row.locale):  # links, language
            {"register": request_registration, "password_reset": send_password_reset,
             "identifier_reminder": send_identifier_reminder}[row.kind](row.login)
        db.session.delete(row)
        db.session.commit()
        done += 1
    return done


# --- registration -----------------------------------------------------------------------


def request_registration(email: str) -> None:
    """Send the confirmation link, or a "you already have an account" email. Same answer."""
    email = normalise_email(email)
    existing = find_by_email(email)
    if existing is not None:
        queue_email(
            email,
            _("Vous avez déjà un compte"),
            "already_registered",
            user=existing,
            login_url=absolute_url("accounts.login"),
            reset_url=absolute_url("accounts.forgot_password"),
        )
        return
    secret = issue_token("register", email)
    queue_email(
        email,
        _("Finalisez la création de votre compte"),
        "confirm_registration",
        confirm_url=absolute_url("accounts.confirm_registration", token=secret),
        hours=48,
    )


class AccountExists(Exception):
    """The address got an account between the request and the confirmation."""


def complete_registration(token: Token, password: str) -> User:
    if find_by_email(token.email) is not None:
        _spend(token)
        raise AccountExists(token.email)
    user = User(
        identifier=new_identifier(),
        email=token.email,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
        status="active",
        role="citizen",
    )
    db.session.add(user)
    _spend(token)
    db.session.flush()
    queue_email(
        user.email,
        _("Votre compte est créé"),
        "welcome",
        user=user,
        account_url=absolute_url("accounts.account"),
    )
    return user


# --- login, throttling and sessions -----------------------------------------------------


@dataclass
class LoginResult:
    user: User | None = None
    first_connection: bool = False
    retry_after: int = 0  # seconds; > 0 means throttled
    known_device: bool = False  # this browser already carries the account's device cookie


def _account_key(login: str, user: User | None) -> str:
    """One counter per account, however it is typed (email, identifier, spaces, case)."""
    if user is not None:
        return f"account:{user.id}"
    login = login.strip().lower()
    return f"login:{(login if '@' in login else login.replace(' ', ''))[:240]}"


def _counter(key: str) -> LoginThrottle:
    """The throttling row for ``key``, locked for this transaction (created when missing).

    Parallel guesses must not lose updates: PostgreSQL locks the row (INSERT … ON CONFLICT DO
    NOTHING, then SELECT … FOR UPDATE) until the request commits; SQLite requests already hold
    the database's write lock (``db.sqlite_write_lock``), so they run one after the other."""
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        db.session.execute(insert(LoginThrottle).values(key=key, failures=0, updated_at=now)
                           .on_conflict_do_nothing(index_elements=["key"]))
        return db.session.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                                  .execution_options(populate_existing=True)).one()
    row = db.session.get(LoginThrottle, key, populate_existing=True)
    if row is None:
        row = LoginThrottle(key=key, failures=0, updated_at=now)
        db.session.add(row)
        db.session.flush()
    return row


def _wait(row: LoginThrottle | None) -> int:
    now = utcnow()
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return int((row.blocked_until - now).total_seconds()) + 1


def _charge(row: LoginThrottle, free: int) -> None:
    """One more failure (counted before the password is checked): past ``free``, a growing delay."""
    now = utcnow()
    if row.updated_at < now - timedelta(hours=24):
        row.failures = 0  # old failures are forgiven
    row.failures += 1
    row.updated_at = now
    if row.failures >= free:
        delay = min(2 ** (row.failures - free) * 15, current_app.config["LOGIN_MAX_DELAY_SECONDS"])
        row.blocked_until = now + timedelta(seconds=delay)  # 15 s, 30 s, 1 min… 15 min
    db.session.flush()


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


DEVICE_COOKIE = "guichet_appareil"
DEVICE_MAX_AGE = timedelta(days=180)


def known_device(cookie: str | None, user: User | None) -> str | None:
    """The device id in a valid device cookie issued to this account, else None."""
    if not cookie or user is None:
        return None
    try:
        data = _device_serializer().loads(cookie, max_age=int(DEVICE_MAX_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("d"), str):
        return None
    return data["d"]


def device_cookie_for(user: User) -> str:
    """Set after a successful login: this browser is known to the account."""
    return _device_serializer().dumps({"u": user.id, "d": secrets.token_urlsafe(16)})


def temporary_password_matches(user: User, password: str) -> bool:
    """A provisioned account's temporary password: right, and not expired."""
    now = utcnow()
    valid = user.temp_password_expires_at is not None and user.temp_password_expires_at > now
    return verify_password(user.temp_password_hash, password) and valid  # always hash: same timing


def authenticate(login: str, password: str, address: str, device_cookie: str | None = None) -> LoginResult:
    """Check credentials with a growing delay per account (or known browser) and per address.

    The account's counter (or the known browser's, from its device cookie) is locked and
    charged *before* the password is checked, so parallel guesses get exactly
    ``LOGIN_FREE_ATTEMPTS`` evaluations; a right password then clears it. The address's counter
    never refuses a known browser, nor an account that has no failures of its own: twenty
    wrong guesses at unknown accounts from a town hall's address must not lock out the owner
    of another account logging in correctly from it."""
    user = find_by_login(login)
    device = known_device(device_cookie, user)
    free = current_app.config["LOGIN_FREE_ATTEMPTS"]
    counter = _counter(f"device:{device}" if device else _account_key(login, user))
    wait = _wait(counter)
    if wait:
        return LoginResult(retry_after=wait)
    address_key = f"ip:{address}"
    address_wait = 0 if device else _wait(db.session.get(LoginThrottle, address_key))
    if address_wait and counter.failures > 0 and counter.updated_at > utcnow() - timedelta(hours=24):
        return LoginResult(retry_after=address_wait)  # this account is itself being guessed
    _charge(counter, free)
    if user is not None and user.status == "provisioned":
        if temporary_password_matches(user, password):
            db.session.delete(counter)
            return LoginResult(user=user, first_connection=True)
    elif verify_password(user.password_hash if user else None, password):
        db.session.delete(counter)
        return LoginResult(user=user, known_device=device is not None)
    if not device:
        _charge(_counter(address_key), free * 4)
    return LoginResult(retry_after=address_wait)


def start_session(user: User, first_connection: bool = False) -> None:
    """A fresh session: the old cookie's content is dropped, a new server-side row is made.
    The language chosen before logging in is kept and remembered on the account; without a
    choice, the account's language applies."""
    chosen = session.get("lang")
    session.clear()
    if chosen in LANGUAGES:
        user.language = chosen
    if user.language in LANGUAGES:
        session["lang"] = user.language
    secret = secrets.token_urlsafe(32)
    row = AuthSession(id=_digest(secret), user_id=user.id, first_connection=first_connection)
    db.session.add(row)
    g.auth_session = row
    session["sid"] = secret
    session.permanent = True
    login_user(user)


def current_session_row() -> AuthSession | None:
    """The server-side row of this browser's session, looked up once per request."""
    if "auth_session" not in g:
        secret = session.get("sid")
        # The row and its user in one statement: Flask-Login's loader reads both on every request.
        g.auth_session = db.session.scalar(
            select(AuthSession).options(joinedload(AuthSession.user, innerjoin=True))
            .where(AuthSession.id == _digest(secret))) if secret else None
    return g.auth_session


def load_session_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user only while their server-side session is alive."""
    row = current_session_row()
    if row is None or str(row.user_id) != str(user_id):
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    if row.last_seen_at + idle < now or row.created_at + lifetime < now:
        db.session.delete(row)
        g.auth_session = None
        return None
    if row.last_seen_at + SESSION_TOUCH_INTERVAL < now and not _is_background_request():
        row.last_seen_at = now
    return row.user


def background_request(view):
    """Mark a view that pages call on their own (polling): it is not the person's activity,
    so it does not keep an idle session alive."""
    view.is_background_request = True
    return view


def _is_background_request() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "is_background_request", False))


def end_session() -> None:
    row = current_session_row()
    if row is not None:
        db.session.delete(row)
    g.auth_session = None
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang  # the interface stays in the language the person reads


def end_other_sessions(user: User) -> None:
    keep = current_session_row()
    query = delete(AuthSession).where(AuthSession.user_id == user.id)
    if keep is not None:
        query = query.where(AuthSession.id != keep.id)
    db.session.execute(query)


# --- forgotten identifier and password --------------------------------------------------


def send_identifier_reminder(email: str) -> None:
    user = find_by_email(email)
    if user is None:
        return
    queue_email(
        user.email,
        _("Votre identifiant"),
        "identifier_reminder",
        user=user,
        login_url=absolute_url("accounts.login"),
    )


def send_password_reset(login: str) -> None:
    user = find_by_login(login)
    if user is None:
        return
    secret = issue_token("reset", user.email, user)
    queue_email(
        user.email,
        _("Réinitialisation de votre mot de passe"),
        "password_reset",
        user=user,
        reset_url=absolute_url("accounts.reset_password", token=secret),
    )


def set_password(user: User, password: str) -> None:
    """New password: outstanding reset links die, every other session ends."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.temp_password_hash = None
    user.temp_password_expires_at = None
    if user.status == "provisioned":
        user.status = "active"
    db.session.execute(
        delete(Token).where(Token.user_id == user.id, Token.purpose == "reset", Token.used_at.is_(None))
    )
    end_other_sessions(user)


PASSWORD_CHANGED_NOTICE = (
    "Le mot de passe de votre compte a été modifié et vos autres sessions ont été fermées. "
    "Si vous n'êtes pas à l'origine de ce changement, choisissez immédiatement un nouveau mot "
    "de passe avec « Mot de passe oublié » sur la page de connexion."
)


def reset_password(token: Token, password: str) -> User | None:
    user = db.session.get(User, token.user_id) if token.user_id else None
    _spend(token)
    if user is None:
        return None
    set_password(user, password)
    db.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    queue_email(user.email, _("Votre mot de passe a été modifié"), "password_changed", user=user,
                reset_url=absolute_url("accounts.forgot_password"))
    add_to_inbox(user, "security", "Votre mot de passe a été modifié", PASSWORD_CHANGED_NOTICE)
    return user


def change_password(user: User, new_password: str) -> None:
    set_password(user, new_password)
    queue_email(user.email, _("Votre mot de passe a été modifié"), "password_changed", user=user,
                reset_url=absolute_url("accounts.forgot_password"))
    add_to_inbox(user, "security", "Votre mot de passe a été modifié", PASSWORD_CHANGED_NOTICE)


# --- first connection of a provisioned account -----------------------------------------


def complete_first_connection(user: User, new_password: str, email: str) -> bool:
    """Returns True when the email was changed and awaits confirmation at the new address."""
    set_password(user, new_password)
    row = current_session_row()
    if row is not None:
        row.first_connection = False
    email = normalise_email(email)
    if email != user.email:
        request_email_change(user, email)
        return True
    queue_email(user.email, _("Votre compte est activé"), "welcome", user=user,
                account_url=absolute_url("accounts.account"))
    return False


# --- profile, email change and deletion -------------------------------------------------

PROFILE_FIELDS = ("civilite", "nom", "prenom", "date_naissance", "lieu_naissance", "adresse",
                  "code_postal", "commune", "telephone")


def update_profile(user: User, values: dict[str, str | date | None]) -> None:
    for name in PROFILE_FIELDS:
        value = values.get(name)
        setattr(user, name, value if value not in ("", None) else None)


def request_email_change(user: User, new_email: str) -> None:
    """Nothing changes until the new address confirms; the old one is told."""
    new_email = normalise_email(new_email)
    taken = find_by_email(new_email)
    if taken is not None and taken.id != user.id:
        # Same page for the person; the new address learns it already has an account.
        queue_email(new_email, _("Vous avez déjà un compte"), "already_registered", user=taken,
                    login_url=absolute_url("accounts.login"),
                    reset_url=absolute_url("accounts.forgot_password"))
    else:
        secret = issue_token("email_change", new_email, user)
        queue_email(new_email, _("Confirmez votre nouvelle adresse email"), "confirm_email_change",
                    user=user, confirm_url=absolute_url("accounts.confirm_email_change", token=secret))
    queue_email(user.email, _("Demande de changement d'adresse email"), "email_change_notice",
                user=user, new_email=new_email)


def confirm_email_change(token: Token) -> User | None:
    user = db.session.get(User, token.user_id) if token.user_id else None
    _spend(token)
    if user is None or find_by_email(token.email) is not None:
        return None
    old = user.email
    user.email = token.email
    queue_email(old, _("Votre adresse email a été modifiée"), "email_changed", user=user,
                new_email=token.email)
    add_to_inbox(user, "security", "Votre adresse email a été modifiée",
                 f"L'adresse email de votre compte est désormais {token.email} (auparavant {old}). "
                 "Si vous n'êtes pas à l'origine de ce changement, contactez l'administration.")
    return user


def delete_account(user: User) -> None:
    """Deletes the account and everything attached to it, for good; ends every session."""
    email, name = user.email, user.display_name
    for hook in current_app.extensions.get("account_deletion_hooks", []):
        hook(user)
    db.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    db.session.execute(delete(Token).where(Token.user_id == user.id))
    db.session.delete(user)
    queue_email(email, _("Votre compte a été supprimé"), "account_deleted", name=name)


# --- provisioning (seed 000) ------------------------------------------------------------


@dataclass
class ProvisionedAccount:
    user: User
    temporary_password: str


def temporary_password() -> str:
    """Like the seed's example h0QMkk22045ZKBI: 15 characters, no ambiguous ones."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(15))


def provision_account(nom: str, prenom: str, email: str, organisation: str) -> ProvisionedAccount:
    password = temporary_password()
    user = User(
        identifier=new_identifier(),
        email=normalise_email(email),
        nom=nom.strip(),
        prenom=prenom.strip(),
        organisation=organisation.strip(),
        status="provisioned",
        role="organisation",
        temp_password_hash=hash_password(password),
        temp_password_expires_at=utcnow() + timedelta(days=current_app.config["TEMP_PASSWORD_DAYS"]),
    )
    db.session.add(user)
    db.session.flush()
    return ProvisionedAccount(user, password)


def expiry_date(user: User) -> datetime | None:
    return user.temp_password_expires_at
