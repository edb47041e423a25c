"""Password policies (seeds 000, 003, 004), the common-password list and argon2id."""

from __future__ import annotations

import pytest

from portal.accounts.passwords import (
    MAX_LENGTH,
    POLICIES,
    hash_password,
    is_common,
    verify_password,
)


def failed(policy: str, password: str) -> set[str]:
    return {rule.code for rule, ok in POLICIES[policy].evaluate(password) if not ok}


@pytest.mark.parametrize("password", ["Bonjour&monde", "Éléphant(rose", "Tournesol°vert", "Cerise!plume"])
def test_cmi_policy_accepts_the_seed_specials(password):
    assert failed("cmi", password) == set()


@pytest.mark.parametrize("password, missing", [
    ("Court!a", {"length"}),
    ("sans-majuscule", {"upper"}),
    ("SANS-MINUSCULE", {"lower"}),
    ("SansSpecialXyz", {"special"}),
])
def test_cmi_policy_rules(password, missing):
    assert failed("cmi", password) == missing


def test_accented_letters_count_as_special_as_the_seed_says():
    assert failed("cmi", "Gateauxà") == set()


def test_opco_policy_wants_a_digit_not_a_special():
    assert failed("opco", "Tournesol8") == set()
    assert failed("opco", "Tournesolx") == {"digit"}


def test_faq_policy_is_five_characters():
    assert failed("faq", "plume") == set()
    assert failed("faq", "plum") == {"length"}


def test_common_passwords_are_refused_even_dressed_up():
    for password in ("azerty", "Azerty123!", "MotDePasse1!", "P@ssw0rd", "Soleil2024!"):
        assert is_common(password), password
    assert not is_common("Cerise!plume")
    assert "common" in failed("cmi", "Azerty123!")


def test_long_passwords_are_accepted_up_to_the_maximum():
    assert MAX_LENGTH >= 64
    assert failed("cmi", "Aa!" + "b" * 61) == set()  # 64 characters
    assert "length" in failed("cmi", "Aa!" + "b" * MAX_LENGTH)


def test_argon2id_hash_and_verify(app):
    with app.app_context():
        hashed = hash_password("Cerise!plume")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "Cerise!plume")
        assert not verify_password(hashed, "cerise!plume")
        assert not verify_password(None, "Cerise!plume")  # no hash: never valid, same work


def test_rules_are_shown_before_typing(app, client, mailbox):
    from tests.conftest import deliver, emails_to, link_in, page, post_form

    post_form(client, "/inscription", {"email": "r@example.org", "email_confirm": "r@example.org"})
    deliver(app)
    text = page(client.get(link_in(emails_to(mailbox, "r@example.org")[0])))
    rules_at = text.index('id="password-rules"')
    assert rules_at < text.index('id="password"')
    for rule in ("Au moins 8 caractères", "Au moins une lettre majuscule", "Au moins une lettre minuscule",
                 "Au moins un caractère spécial", "Pas un mot de passe trop courant"):
        assert rule in text
    assert 'aria-describedby="password-rules"' in text


def test_policy_is_chosen_per_deployment(tmp_path, smtp_server):
    from tests.conftest import make_app, page

    app = make_app("sqlite", tmp_path, smtp_server[1], PASSWORD_POLICY="opco")
    with app.test_request_context():
        from portal.accounts.passwords import current_policy

        assert current_policy().name == "opco"
    client = app.test_client()
    from tests.conftest import csrf_token

    response = client.post("/mot-de-passe/verifier", data={"password": ""},
                           headers={"HX-Request": "true", "HX-Target": "password-rules",
                                    "X-CSRFToken": csrf_token(client)})
    assert "Au moins un chiffre" in page(response)
