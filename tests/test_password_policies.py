"""Password policies as a person sees them: each rule's label and outcome, the common-password
list, the maximum length; and argon2id hashing (no database: a bare Flask app gives the profile)."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.accounts import passwords
from portal.accounts.passwords import MAX_LENGTH, POLICIES, SPECIAL_CHARACTERS, is_common


def outcome(policy: str, password: str) -> dict[str, bool]:
    return {rule.code: ok for rule, ok in POLICIES[policy].evaluate(password)}


LABELS = {
    "length": "Au moins 8 caractères",
    "upper": "Au moins une lettre majuscule",
    "lower": "Au moins une lettre minuscule",
    "digit": "Au moins un chiffre",
    "special": f"Au moins un caractère spécial, par exemple {SPECIAL_CHARACTERS}",
    "common": "Pas un mot de passe trop courant (comme « Azerty123! »)",
}


@pytest.mark.parametrize("policy, codes", [
    ("cmi", ["length", "upper", "lower", "special", "common"]),
    ("opco", ["length", "upper", "lower", "digit", "common"]),
    ("faq", ["length", "common"]),
])
def test_each_policy_shows_its_rules_in_order(policy, codes):
    rules = POLICIES[policy].rules()
    assert [r.code for r in rules] == codes
    expected = {**LABELS, "length": f"Au moins {POLICIES[policy].min_length} caractères"}
    assert [r.label for r in rules] == [expected[c] for c in codes]


def test_the_policies_lengths():
    assert {name: p.min_length for name, p in POLICIES.items()} == {"cmi": 8, "opco": 8, "faq": 5}
    assert {name: p.name for name, p in POLICIES.items()} == {"cmi": "cmi", "opco": "opco", "faq": "faq"}
    assert MAX_LENGTH == 128


@pytest.mark.parametrize("password, failed", [
    ("Cerise!p", set()),                          # exactly 8
    ("Cerise!", {"length"}),                      # 7
    ("Cerise!" + "p" * 121, set()),               # exactly 128
    ("Cerise!" + "p" * 122, {"length"}),          # 129
    ("cerise!plume", {"upper"}),
    ("CERISE!PLUME", {"lower"}),
    ("CerisePlume", {"special"}),
    ("Cerise plume", set()),                      # a space is special
    ("Cerise€plume", set()),                      # any non-alphanumeric character
    ("Ceriseéplume", set()),                      # an accented letter, as the seed says
    ("Cerise9plume", {"special"}),
    ("Azerty123!", {"common"}),
    ("", {"length", "upper", "lower", "special", "common"}),
])
def test_cmi_policy(password, failed):
    assert {code for code, ok in outcome("cmi", password).items() if not ok} == failed


@pytest.mark.parametrize("password, failed", [
    ("Tournesol8", set()),
    ("Tournesolx", {"digit"}),
    ("tournesol8", {"upper"}),
    ("TOURNESOL8", {"lower"}),
    ("Tourne8", {"length"}),
])
def test_opco_policy(password, failed):
    assert {code for code, ok in outcome("opco", password).items() if not ok} == failed


def test_errors_list_the_failed_labels_and_the_maximum():
    policy = POLICIES["cmi"]
    assert policy.errors("Cerise!plume") == []
    assert policy.errors("cerise") == ["Au moins 8 caractères", "Au moins une lettre majuscule",
                                       LABELS["special"]]
    too_long = "Cerise!" + "p" * 122
    assert policy.errors(too_long) == ["Au moins 8 caractères", "Au plus 128 caractères"]
    assert policy.errors("Cerise!" + "p" * 121) == []
    assert POLICIES["faq"].errors("plume") == []


@pytest.mark.parametrize("password, common", [
    ("azerty", True), ("AZERTY", True), ("Azerty123!", True), ("!!azerty2024", True),
    ("@azerty#", True), (" azerty ", True), ("MotDePasse1!", True), ("P@ssw0rd", True),
    ("Soleil2024!", True), ("azertyuiop-x", False), ("Cerise!plume", False), ("ab1", False),
    ("12345678", True), ("1a1", False), ("", False),
])
def test_common_passwords(password, common):
    assert is_common(password) is common


def test_a_dressed_up_core_must_keep_three_letters():
    # "mai" and "de" are in the list: dressed up, a three-letter word is still refused, not a two-letter one.
    assert is_common("mai") and is_common("mai2024!")
    assert is_common("de") and not is_common("de2024!")


def test_a_rule_code_nobody_knows_is_a_programming_error():
    with pytest.raises(ValueError, match="^couleur$"):
        passwords.Rule("couleur", "x").check("Cerise!plume", 8)


@pytest.fixture
def bare_app():
    app = Flask("guichet-passwords")
    app.config.update(ARGON2_PROFILE="fast", PASSWORD_POLICY="opco")
    with app.app_context():
        yield app


def test_argon2id_hash_and_verify(bare_app):
    hashed = passwords.hash_password("Cerise!plume")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.verify_password(hashed, "Cerise!plume") is True
    assert passwords.verify_password(hashed, "cerise!plume") is False
    assert passwords.verify_password(None, "guichet-dummy-password") is False
    assert passwords.verify_password("", "Cerise!plume") is False
    assert passwords.verify_password("pas-un-hash", "Cerise!plume") is False


def test_the_default_profile_uses_the_library_parameters():
    assert passwords._hasher("default").memory_cost == passwords.PasswordHasher().memory_cost


def test_the_deployment_chooses_its_policy(bare_app):
    assert passwords.current_policy() is POLICIES["opco"]
    bare_app.config["PASSWORD_POLICY"] = "aucune"
    with pytest.raises(RuntimeError) as info:
        passwords.current_policy()
    assert str(info.value) == "PASSWORD_POLICY='aucune' inconnue ; valeurs possibles : cmi, opco, faq"
