"""The wallet is confidential: no other account, agent or admin reads it, on any URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from portal import db as database
from portal.accounts.models import User
from tests.conftest import PASSWORD, csrf_token, post_form
from tests.wallet_samples import upload

TITLE = "TITRE-CONFIDENTIEL-7Q"
FILENAME = "FICHIER-CONFIDENTIEL-3Z"
CONTENT = "CONTENU-CONFIDENTIEL-9X"
SKIPPED_POSTS = {"accounts.logout"}  # keeps the visitor logged in for the rest of the walk


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def secret_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_compression(False)  # the marker is readable in the bytes
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=CONTENT)
    return bytes(pdf.output())


@pytest.fixture
def victim_document(app, client, create_user, auth):
    create_user(email="victime@example.org")
    auth.login("victime@example.org")
    response = post_form(client, "/porte-documents/ajouter", {
        "file": upload(secret_pdf(), FILENAME + ".pdf"), "kind": "piece_identite", "title": TITLE,
        "person": "moi", "issued_on": "01/01/2026", "valid_until": ""})
    assert response.status_code == 303
    auth.logout()
    with app.app_context():
        from portal.wallet.models import WalletDocument

        return database.session.query(WalletDocument).one().id


def urls_for_rule(rule, document_id: int) -> list[str]:
    """Every URL of a rule: integers get the victim's document id, ``any`` each of its values."""
    combos = [{}]
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "AnyConverter":
            options = sorted(converter.items)
        elif kind in ("IntegerConverter", "NumberConverter"):
            options = [document_id]
        else:
            options = ["x"]
        combos = [{**combo, name: option} for combo in combos for option in options]
    return [rule.build(values, append_unknown=False)[1] for values in combos]


def assert_nothing_leaks(response, where: str) -> None:
    body = response.get_data()
    for secret in (TITLE, FILENAME, CONTENT):
        assert secret.encode() not in body, where
    assert b"%PDF-" not in body, where
    assert "attachment" not in response.headers.get("Content-Disposition", ""), where


@pytest.mark.parametrize("role", ["agent", "admin", "citizen"])
def test_every_url_hides_the_wallet_from_other_accounts(app, create_user, victim_document, role):
    create_user(email=f"{role}@example.org", role=role)
    visitor = app.test_client()
    assert post_form(visitor, "/connexion", {"login": f"{role}@example.org", "password": PASSWORD}).status_code == 303
    token = csrf_token(visitor)
    walked = 0
    for rule, url in ((r, u) for r in app.url_map.iter_rules() for u in urls_for_rule(r, victim_document)):
        where = f"{role} {rule.endpoint} {url}"
        if "GET" in rule.methods:
            response = visitor.get(url)
            assert_nothing_leaks(response, where)
            if rule.endpoint.startswith("wallet.") and rule.arguments:
                assert response.status_code == 404, where
            walked += 1
        if "POST" in rule.methods and rule.endpoint not in SKIPPED_POSTS:
            response = visitor.post(url, data={"csrf_token": token, "title": "pirate"})
            assert_nothing_leaks(response, where)
            if rule.endpoint.startswith("wallet.") and rule.arguments:
                assert response.status_code == 404, where
            walked += 1
    assert walked > 20
    # Still logged in, and the victim's document is untouched.
    assert visitor.get("/compte").status_code == 200
    with app.app_context():
        from portal.wallet.models import WalletDocument

        document = database.session.get(WalletDocument, victim_document)
        assert document is not None and document.title == TITLE
        assert database.session.get(User, document.user_id).email == "victime@example.org"


def test_the_owner_sees_it(client, auth, victim_document):
    auth.login("victime@example.org")
    assert TITLE in client.get("/porte-documents/").get_data(as_text=True)
    assert CONTENT.encode() in client.get(f"/porte-documents/{victim_document}/telecharger").data


def test_only_the_wallet_package_reads_wallet_rows():
    """No agent/admin page, command or API: nothing outside portal/wallet names the table."""
    root = Path(__file__).resolve().parent.parent / "portal"
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if "wallet" not in path.relative_to(root).parts
        and ("WalletDocument" in path.read_text() or "wallet_documents" in path.read_text())
    ]
    assert offenders == []
