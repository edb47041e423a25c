"""Password hashing (argon2id) and the deployment's password policy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

# The seed's list of special characters; any other non-alphanumeric character counts too.
SPECIAL_CHARACTERS = "&\"(-_)°+=`$ù%*,!?./<>çéèà"
MAX_LENGTH = 128  # always at least 64 accepted (ASVS 2.1.2)
# What people dress a common password up with at its ends: "Azerty123!" is still "azerty".
DRESSING = "0123456789" + SPECIAL_CHARACTERS + " @#"


@cache
def _hasher(profile: str | None) -> PasswordHasher:
    if profile == "fast":  # tests only: same algorithm, cheaper parameters
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hasher() -> PasswordHasher:
    return _hasher(current_app.config.get("ARGON2_PROFILE"))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash, so timing reveals nothing."""
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return hasher().hash("guichet-dummy-password")


def _is_special(char: str) -> bool:
    return char in SPECIAL_CHARACTERS or not (char.isascii() and char.isalnum())


@dataclass(frozen=True)
class Rule:
    code: str
    label: str

    def check(self, password: str, min_length: int) -> bool:
        if self.code == "length":
            return min_length <= len(password) <= MAX_LENGTH
        if self.code == "upper":
            return any(c.isupper() for c in password)
        if self.code == "lower":
            return any(c.islower() for c in password)
        if self.code == "digit":
            return any(c.isdigit() for c in password)
        if self.code == "special":
            return any(_is_special(c) for c in password)
        if self.code == "common":
            return bool(password) and not is_common(password)
        raise ValueError(self.code)


@dataclass(frozen=True)
class Policy:
    name: str
    min_length: int
    rule_codes: tuple[str, ...]

    def rules(self) -> list[Rule]:
        labels = {
            "length": _l("Au moins %(n)s caractères", n=self.min_length),
            "upper": _l("Au moins une lettre majuscule"),
            "lower": _l("Au moins une lettre minuscule"),
            "digit": _l("Au moins un chiffre"),
            "special": _l("Au moins un caractère spécial, par exemple %(chars)s",
                          chars=SPECIAL_CHARACTERS),
            "common": _l("Pas un mot de passe trop courant (comme « Azerty123! »)"),
        }
        return [Rule(code, str(labels[code])) for code in (*self.rule_codes, "common")]

    def evaluate(self, password: str) -> list[tuple[Rule, bool]]:
        return [(rule, rule.check(password, self.min_length)) for rule in self.rules()]

    def errors(self, password: str) -> list[str]:
        failed = [rule.label for rule, ok in self.evaluate(password) if not ok]
        if len(password) > MAX_LENGTH:
            failed.append(str(_l("Au plus %(n)s caractères", n=MAX_LENGTH)))
        return failed


POLICIES = {
    # seed 000 (CMI organisme): 8 characters, upper, lower, special
    "cmi": Policy("cmi", 8, ("length", "upper", "lower", "special")),
    # seed 003 (OPCO Mobilités): 8 characters, upper, lower, digit
    "opco": Policy("opco", 8, ("length", "upper", "lower", "digit")),
    # seed 004 (FAQ of a citizen portal): at least 5 characters
    "faq": Policy("faq", 5, ("length",)),
}


def current_policy() -> Policy:
    name = current_app.config["PASSWORD_POLICY"]
    try:
        return POLICIES[name]
    except KeyError as exc:
        raise RuntimeError(
            f"PASSWORD_POLICY={name!r} inconnue ; valeurs possibles : {', '.join(POLICIES)}"
        ) from exc


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("portal.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """A known-leaked password, or one of them dressed up with digits and symbols at the ends."""
    lowered = password.lower()
    common = _common_passwords()
    if lowered in common:
        return True
    core = lowered.strip(DRESSING)
    return len(core) >= 3 and core in common
