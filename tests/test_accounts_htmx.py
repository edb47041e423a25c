"""htmx inline checks answer only the swapped fragment, rendered from its block alone."""

from __future__ import annotations

from tests.conftest import csrf_token, page

MESSAGE = "La saisie de l'email est obligatoire et doit être une adresse email valide."


def htmx_post(client, url: str, data: dict, target: str):
    headers = {"HX-Request": "true", "HX-Target": target, "X-CSRFToken": csrf_token(client)}
    return client.post(url, data=data, headers=headers)


def test_inline_email_check_returns_the_field_group_with_its_error(client):
    response = htmx_post(client, "/verifier/inscription/email",
                         {"email": "pas-une-adresse", "email_confirm": ""}, "email-group")
    assert response.status_code == 200
    body = page(response)
    assert body.lstrip().startswith('<div class="field field--error" id="email-group">')
    assert MESSAGE in body and 'aria-invalid="true"' in body
    assert "<html" not in body and "email_confirm" not in body


def test_password_rules_fragment_tells_which_rules_are_met(client):
    response = htmx_post(client, "/mot-de-passe/verifier", {"password": "abc"}, "password-rules")
    assert response.status_code == 200
    body = page(response)
    assert body.lstrip().startswith('<div id="password-rules"')
    assert "password-rule--ok" in body and "password-rule--ko" in body
    assert "<html" not in body
