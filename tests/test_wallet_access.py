"""The wallet is confidential: no other account, agent or admin reads it, on any URL."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import click
import pytest
from flask.cli import FlaskGroup, ScriptInfo
from fpdf import FPDF
from werkzeug.routing.converters import AnyConverter, NumberConverter

from portal import db as database
from portal.accounts.models import User
from tests.conftest import PASSWORD, csrf_token, post_form
from tests.wallet_samples import run_file_checks, upload

TITLE = "TITRE-CONFIDENTIEL-7Q"
FILENAME = "FICHIER-CONFIDENTIEL-3Z"
CONTENT = "CONTENU-CONFIDENTIEL-9X"
PORTAL = Path(__file__).resolve().parent.parent / "portal"
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
    run_file_checks(app)
    auth.logout()
    with app.app_context():
        from portal.wallet.models import WalletDocument

        return database.session.query(WalletDocument).one().id


def urls_for_rule(rule, document_id: int) -> list[str]:
    """Every URL of a rule: integers get the victim's document id, ``any`` each of its values."""
    combos = [{}]
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            options = sorted(converter.items)
        elif isinstance(converter, NumberConverter):  # <int:…> is the portal's DatabaseIdConverter
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
    offenders = [
        str(path.relative_to(PORTAL)) for path in PORTAL.rglob("*.py")
        if "wallet" not in path.relative_to(PORTAL).parts
        and ("WalletDocument" in path.read_text() or "wallet_documents" in path.read_text())
    ]
    assert offenders == []


# Packages that may use the wallet: itself, the procedures that attach its documents, the files
# it stores, and account deletion. Anything else importing it is a way in for agents or admins.
WALLET_USERS = {"wallet", "demarches", "files", "accounts",
                "exports"}  # the person's own « Télécharger mes données », through wallet.services
# Outside those, only the wiring: the blueprint registered, the table known to the schema.
WALLET_WIRING = {("__init__.py", "portal.wallet.views"), ("models.py", "portal.wallet.models")}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, ``from portal import wallet`` included."""
    package = ".".join(("portal", *path.relative_to(PORTAL).parent.parts))
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parent, base]))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "portal.wallet" in node.value:
            found.add(node.value)  # importlib.import_module("portal.wallet…"), a string path
    return found


def test_only_allowed_packages_import_the_wallet():
    offenders = []
    for path in PORTAL.rglob("*.py"):
        relative = path.relative_to(PORTAL)
        if len(relative.parts) > 1 and relative.parts[0] in WALLET_USERS:
            continue
        for module in imported_modules(path):
            wiring = any(relative.as_posix() == file and (module == wired or module.startswith(wired + "."))
                         for file, wired in WALLET_WIRING)
            if (module == "portal.wallet" or module.startswith("portal.wallet.")) and not wiring:
                offenders.append(f"{relative}: {module}")
    assert offenders == []


def test_the_import_check_sees_every_form(tmp_path, monkeypatch):
    """The check above would notice an agent page reaching for the wallet, however it is written."""
    agents = tmp_path / "portal" / "agents"
    agents.mkdir(parents=True)
    monkeypatch.setattr(sys.modules[__name__], "PORTAL", tmp_path / "portal")
    for source in ("import portal.wallet.services", "from portal.wallet import services",
                   "from portal import wallet", "from ..wallet.models import WalletDocument",
                   "importlib.import_module('portal.wallet.services')"):
        (agents / "views.py").write_text(source + "\n")
        assert any(m.startswith("portal.wallet") for m in imported_modules(agents / "views.py")), source


# What each command prints, when run here: the ones that list things run against a wallet with
# a document in it; the others are only asked for --help (they change things, or take an
# object named on the command line and print only that). A new command fails the test until
# it is put in one of the two.
LISTING_COMMANDS = {
    ("routes",): [],
    ("demarches", "check"): [],
    ("demo",): [],
    ("worker",): ["--once"],
    ("db", "current"): [],
    ("limiter", "config"): [],
    ("limiter", "limits"): [],
}
OTHER_COMMANDS = {
    ("run",), ("shell",), ("db", "upgrade"), ("db", "downgrade"), ("db", "revision"),
    ("accounts", "provision"), ("demarches", "set-status"), ("limiter", "clear"), ("static", "build"),
}


# Flask-Limiter's commands need its "cli" extra, not installed: without it they print only that.
LIMITER_MISSING = "Missing dependencies for flask-limiter cli"


def ran(command: tuple[str, ...], result) -> bool:
    return result.exit_code == 0 or (command[0] == "limiter" and LIMITER_MISSING in result.output)


def every_command(app) -> tuple[click.Group, list[tuple[str, ...]]]:
    """The ``flask`` command as the console has it (Flask's own commands and the portal's)."""
    group = FlaskGroup(create_app=lambda: app)
    found = []

    def walk(command, path):
        context = click.Context(command, info_name=path[-1] if path else "flask",
                                obj=ScriptInfo(create_app=lambda: app))
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if isinstance(sub, click.Group):
                walk(sub, (*path, name))
            else:
                found.append((*path, name))

    walk(group, ())
    return group, found


def test_no_command_lists_or_prints_wallet_content(app, victim_document):
    group, commands = every_command(app)
    assert set(commands) == set(LISTING_COMMANDS) | OTHER_COMMANDS, set(commands) ^ (set(LISTING_COMMANDS) | OTHER_COMMANDS)
    runner = app.test_cli_runner()
    outputs = {}
    for command in commands:
        result = runner.invoke(group, [*command, "--help"])
        assert ran(command, result), (command, result.output)
        outputs[command + ("--help",)] = result.output
    for command, args in LISTING_COMMANDS.items():
        result = runner.invoke(group, [*command, *args])
        assert ran(command, result), (command, result.output, result.exception)
        outputs[command] = result.output
    assert "wallet.download" in outputs[("routes",)]  # the listings really ran
    assert "cmi" in outputs[("demarches", "check")]
    for command, output in outputs.items():
        for secret in (TITLE, FILENAME, CONTENT):
            assert secret not in output, (command, secret)
