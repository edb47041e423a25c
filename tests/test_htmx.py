"""htmx on top of working forms: fragments for swaps, full pages otherwise, Vary header."""

from __future__ import annotations

import re

from tests.conftest import csrf_token, page

HTMX = {"HX-Request": "true"}


def _post(client, url, data, target):
    return client.post(url, data=data, headers={**HTMX, "HX-Target": target, "X-CSRFToken": csrf_token(client)})


def test_password_rules_fragment_reports_each_rule(client):
    response = _post(client, "/mot-de-passe/verifier", {"password": "abcdefgh"}, "password-rules")
    text = page(response)
    assert text.lstrip().startswith('<div id="password-rules"')
    assert "<html" not in text
    assert 'data-rule="lower"' in text and "password-rule--ok" in text and "password-rule--ko" in text
    assert "règles sur" in text
    assert "HX-Request" in response.headers["Vary"]


def test_inline_email_check_returns_the_field_group_with_its_error(client):
    response = _post(client, "/verifier/inscription/email", {"email": "pas-une-adresse", "email_confirm": ""},
                     "email-group")
    text = page(response)
    assert text.lstrip().startswith('<div class="field field--error" id="email-group"')
    assert "doit être une adresse email valide" in text
    assert 'aria-invalid="true"' in text
    # Only this field's error, not the other one's.
    assert "identiques" not in text


def test_inline_confirmation_check(client):
    response = _post(client, "/verifier/inscription/email_confirm",
                     {"email": "a@example.org", "email_confirm": "b@example.org"}, "email_confirm-group")
    assert "Les deux adresses email doivent être identiques." in page(response)
    ok = _post(client, "/verifier/inscription/email_confirm",
               {"email": "a@example.org", "email_confirm": "a@example.org"}, "email_confirm-group")
    assert "error-message" not in page(ok)


def test_unknown_check_target_is_404(client):
    assert _post(client, "/verifier/nope/email", {}, "email-group").status_code == 404
    assert _post(client, "/verifier/inscription/csrf_token", {}, "x").status_code == 404


def test_boosted_and_history_restore_requests_get_the_full_page(client):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        response = client.post("/mot-de-passe/verifier", data={"password": "x"},
                               headers={**HTMX, **extra, "HX-Target": "password-rules",
                                        "X-CSRFToken": csrf_token(client)})
        assert response.status_code == 200
    page_response = client.get("/inscription", headers={**HTMX, "HX-Boosted": "true"})
    assert "<html" in page(page_response)


def test_pages_reference_htmx_from_static_not_a_cdn(client):
    text = page(client.get("/"))
    src = re.search(r'src="(/static/vendor/htmx\.min\.[0-9a-f]{12}\.js)"', text).group(1)  # fingerprinted
    assert "unpkg" not in text and "cdn" not in text.lower()
    assert client.get(src).status_code == 200


def test_forms_work_as_plain_posts(client):
    text = page(client.get("/inscription"))
    assert 'method="post" action="/inscription"' in text and "novalidate" in text
    assert 'data-hx-post="/verifier/inscription/email"' in text  # the enhancement is layered on top
