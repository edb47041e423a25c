"""Fuzzing every POST route (and the paged GET pages): hostile input gets a 4xx or a form
error, never a server error.

Every POST rule of ``app.url_map`` is posted to, anonymously and as a citizen who has a draft,
a submitted request, a wallet document and a relation, with a valid CSRF token, with: every
field set to each hostile value (NUL bytes, "²" and other Unicode digits, ids beyond
PostgreSQL's integer range, 4,301-digit numbers, deeply nested JSON in ``_base``, ’ and œ…),
file parts where text is expected, a JSON body, and seeded random mixes of valid and hostile
values. Ids in URLs get out-of-range values too. A response fails the test when it is a 5xx,
when the view raises, or when a header cannot be sent (gunicorn sends headers in latin-1:
a ’ in one is a bare 500 after the transaction was committed).

Deterministic (seeded) and fast: one pass over each route, no Hypothesis needed.
"""

from __future__ import annotations

import io
import json
import random
import re
from html.parser import HTMLParser
from itertools import product
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from portal import db
from tests.conftest import csrf_token, page
from tests.demarches_support import sign_in, start

SEED = 20261208
NESTED_BASE = '{"a":' * 20000 + "1" + "}" * 20000
HUGE_DIGITS = "1" * 4301
HOSTILE = [
    "", " ", "\x00", "a\x00b", "²", "١٢٣", "𝟡", "99999999999999999999", "-1", "0", "2147483648",
    HUGE_DIGITS, "1e309", "NaN", "’œ « Élise »", "<script>alert(1)</script>", "x" * 5000, "../../etc/passwd",
    '{"a": 1}', "[1, 2]", NESTED_BASE, "retirer:accompagnants:99999999999999999999", "retirer:²:²",
    "ajouter:", "\u202e", "31/02/2024", "1,5", '{"nom": {"x": [1]}, "accompagnants": "x", "mentions": 7}',
]
# Every field set to each of these (the others appear in the random mixes).
EACH = ["", "\x00", "a\x00b", "²", "١٢٣", "99999999999999999999", "0", HUGE_DIGITS, "1e309",
        "’œ « Élise »", "x" * 5000, '{"a": 1}', NESTED_BASE, "retirer:accompagnants:99999999999999999999",
        "retirer:²:²", '{"nom": {"x": [1]}, "accompagnants": "x", "mentions": 7}']
FEW = EACH[1:6] + [NESTED_BASE]
QUERY_NAMES = ["page", "brouillons", "demandes", "q", "next", "reprise", "relation", "beneficiaire"]
EXTRA_FIELDS = ["_base", "_step", "_shown", "action", "version", "next", "page", "beneficiaire"]
HOSTILE_IDS = ["99999999999999999999", "2147483648", "0", HUGE_DIGITS[:30]]
MIXES = 3


class FormFields(HTMLParser):
    """The names (with a first value) of the fields posted to each action of a page."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.fields: dict[str, dict[str, str]] = {}
        self._current: list[str] | None = None  # the actions of the open form

    def _target(self, action: str) -> str:
        parts = urlsplit(action or self.path)
        return parts.path or self.path

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = []
            if a.get("method", "get").lower() == "post":
                self._current.append(self._target(a.get("action", "")))
            if a.get("data-hx-post"):
                self._current.append(self._target(a["data-hx-post"]))
            for action in self._current:
                self.fields.setdefault(action, {})
            return
        targets = list(self._current or [])
        if a.get("data-hx-post"):
            targets.append(self._target(a["data-hx-post"]))
            self.fields.setdefault(targets[-1], {})
        if tag in ("input", "select", "textarea", "button") and a.get("name"):
            value = a.get("value", "")
            if tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" not in a:
                value = a.get("value", "")
            for action in targets:
                self.fields[action].setdefault(a["name"], value)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class Fuzzer:
    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.failures: list[str] = []
        self.fields: dict[str, dict[str, str]] = {}
        self.requests = 0

    def learn(self, path: str) -> None:
        """Read the forms of a page (GET) to know what each action's fields are called."""
        response = self.call("GET", path)
        if response is None or response.status_code != 200 or "html" not in response.content_type:
            return
        parser = FormFields(path)
        parser.feed(response.get_data(as_text=True))
        for action, names in parser.fields.items():
            known = self.fields.setdefault(action, {})
            for name, value in names.items():
                known.setdefault(name, value)

    def call(self, method: str, url: str, what: str = "", **kwargs):
        self.requests += 1
        try:
            response = self.client.open(url, method=method, **kwargs)
        except Exception as exc:  # the view raised: a 500 in production
            self.failures.append(f"{method} {url[:120]} {what}: {type(exc).__name__}: {str(exc)[:200]}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method} {url[:120]} {what}: {response.status_code}")
        for name, value in response.headers.items():
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                self.failures.append(f"{method} {url[:120]} {what}: header {name} is not latin-1: {value[:80]!r}")
        return response

    def post_all(self, url: str, rng: random.Random, values: list[str], mixes: int = MIXES) -> None:
        path = urlsplit(url).path
        defaults = dict(self.fields.get(path, {}))
        defaults.pop("csrf_token", None)
        names = sorted(set(defaults) | set(EXTRA_FIELDS))
        token = csrf_token(self.client)
        for value in values:
            self.call("POST", url, f"all fields = {value[:20]!r}",
                      data={"csrf_token": token, **{name: value for name in names}})
        files = {name: (io.BytesIO(b"%PDF-1.4\n<</Type/Catalog>>"), "piece.pdf") for name in names}
        self.call("POST", url, "file parts", data={"csrf_token": token, **files}, content_type="multipart/form-data")
        self.call("POST", url, "JSON body", data=json.dumps({name: {"x": [1]} for name in names}),
                  content_type="application/json", headers={"X-CSRFToken": token})
        for n in range(mixes):
            data = [("csrf_token", token)]
            for name in names:
                choice = rng.random()
                if choice < 0.5 and name in defaults:
                    data.append((name, defaults[name]))
                elif choice < 0.9:
                    data.append((name, rng.choice(HOSTILE)))
                else:  # the same name twice
                    data += [(name, rng.choice(HOSTILE)), (name, rng.choice(HOSTILE))]
            from werkzeug.datastructures import MultiDict

            self.call("POST", url, f"mix {n}", data=MultiDict(data))

    def get_all(self, url: str, values: list[str]) -> None:
        for value in values:
            self.call("GET", url + "?" + urlencode({name: value for name in QUERY_NAMES}), f"query = {value[:20]!r}")


def _ids(app, citizen_id: int) -> dict[str, list[str]]:
    """The citizen's objects, by the name of the URL argument that designates them."""
    from portal.demarches.models import Dossier, DossierFile
    from portal.notifications.models import Notification
    from portal.relations.models import Relation
    from portal.wallet.models import WalletDocument

    with app.app_context():
        ids = lambda model, *where: [str(i) for i in db.session.scalars(select(model.id).where(*where))]  # noqa: E731
        dossiers = db.session.scalars(select(Dossier).where(Dossier.user_id == citizen_id)).all()
        return {
            "dossier_id": [str(d.id) for d in dossiers],
            "reference": [d.reference for d in dossiers if d.reference],
            "document_id": ids(WalletDocument, WalletDocument.user_id == citizen_id),
            "relation_id": ids(Relation, Relation.user_id == citizen_id),
            "notification_id": ids(Notification, Notification.user_id == citizen_id) or ["1"],
            "file_id": ids(DossierFile) or ["1"],
            "email_id": ["1"],
        }


def _values_for(app, rule, ids: dict[str, list[str]], draft_steps: list[str]) -> list[tuple[dict[str, str], bool]]:
    """URL arguments for a rule: every valid combination, then each argument made hostile
    (ids out of range); each with whether it is hostile."""
    from portal.accounts.views import CHECKED_FORMS
    from portal.demarches import procedures
    from portal.relations.views import CHECKED_FIELDS

    with app.app_context():
        procedure_ids = sorted(procedures())

    valid: dict[str, list[str]] = {
        **ids,
        "step_id": draft_steps + ["inexistante"],
        "procedure_id": procedure_ids + ["inconnue"],
        "token": ["jeton-invalide"],
        "category": sorted(CHECKED_FIELDS),
        "form_key": sorted(CHECKED_FORMS),
        "name": sorted({n for names in CHECKED_FIELDS.values() for n in names}) + ["email", "inconnu"],
        "slug": ["cgu"],
        "filename": ["css/portal.css"],
    }
    arguments = sorted(rule.arguments)
    combos = [dict(zip(arguments, values, strict=True))
              for values in product(*(valid.get(a, ["1"])[:12] for a in arguments))]
    hostile = []
    for argument in arguments:
        for bad in (HOSTILE_IDS if argument.endswith("_id") else ["x" * 300, "%00", "²"]):
            hostile.append({**combos[0], argument: bad} if combos else {argument: bad})
    return [(values, False) for values in combos] + [(values, True) for values in hostile]


def _url(rule, values: dict[str, str]) -> str:
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + name + r">", value, url)
    return url


LAST = {"accounts.logout", "accounts.delete_account", "demarches.delete", "relations.delete", "wallet.delete"}


@pytest.fixture
def world(app, client, auth, create_user):
    """A citizen with a relation, a wallet document, a draft and a submitted request."""
    from tests.test_demarches_other import fill_duplicata, submit
    from tests.test_wallet_views import add

    user = sign_in(client, auth, create_user)
    response = client.post("/relations/ajouter/personne-physique", data={
        "csrf_token": csrf_token(client, "/relations/ajouter/personne-physique"), "kind": "enfant",
        "civilite": "Madame", "nom": "Martin", "prenom": "Élise", "date_naissance": "01/02/2015"})
    assert response.status_code == 303, page(response)
    assert add(client).status_code == 303
    submit(client, fill_duplicata(client))
    draft = start(client, "cmi")
    from portal.demarches import get_procedure

    with app.app_context():
        steps = [step.id for step in get_procedure("cmi").steps]
    return user, draft, steps


GET_FUZZED = {"demarches.mine", "demarches.catalogue", "demarches.beneficiary", "notifications.inbox",
              "relations.index", "wallet.index", "pages.home"}


def test_no_post_gets_a_server_error(app, client, world):
    user, draft, steps = world
    fuzzer = Fuzzer(app, client)
    rng = random.Random(SEED)
    ids = _ids(app, user.id)
    ids["dossier_id"].sort(key=lambda i: i != str(draft))  # the draft first
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in LAST, r.rule))
    urls = []
    for rule in rules:
        if rule.endpoint == "static":
            continue
        for n, (values, hostile) in enumerate(_values_for(app, rule, ids, steps)):
            # Every value on the first URL of each route and on each of the draft's steps,
            # fewer values on a few more URLs, one request on each hostile URL.
            draft_step = rule.endpoint == "demarches.step" and values.get("dossier_id") == str(draft)
            if not hostile and n >= 4 and not draft_step:
                continue
            urls.append((rule, _url(rule, values), hostile, not hostile and (n == 0 or draft_step)))
    for rule, url, hostile, _full in urls:  # learn the forms' fields from every page first
        if "GET" in rule.methods and not hostile:
            fuzzer.learn(url)
    checked = False
    for rule, url, hostile, full in urls:
        if "GET" in rule.methods and rule.endpoint in GET_FUZZED:
            fuzzer.get_all(url, [v for v in HOSTILE if len(v) < 5000] if full else FEW[:1])
        if rule.endpoint in LAST and not checked:
            assert client.get("/compte").status_code == 200  # the fuzzing above ran logged in
            checked = True
        if "POST" in rule.methods:
            if hostile:
                fuzzer.post_all(url, rng, ["1"], mixes=0)
            else:
                fuzzer.post_all(url, rng, EACH if full else FEW, mixes=MIXES if full else 1)
    anonymous = Fuzzer(app, app.test_client())
    anonymous.fields = fuzzer.fields
    for rule, url, _hostile, full in urls:
        if "POST" in rule.methods and full:
            anonymous.post_all(url, rng, FEW, mixes=1)
        elif rule.endpoint in ("demarches.mine", "demarches.catalogue") and full:
            anonymous.get_all(url, FEW)
    failures = sorted(set(fuzzer.failures + anonymous.failures))
    assert not failures, f"{len(failures)} server errors in {fuzzer.requests + anonymous.requests} requests:\n" + \
        "\n".join(failures[:40])


# --- the guards the fuzzing led to, one by one --------------------------------------------


@pytest.mark.parametrize("typed, expected", [("42", 42), (" 7 ", 7), ("2147483647", 2147483647),
                                             ("2147483648", None), ("99999999999999999999", None),
                                             ("0", None), ("-1", None), ("²", None), ("١٢", None),
                                             (HUGE_DIGITS, None), ("", None), (None, None), (True, None)])
def test_parse_id_accepts_only_database_ids(typed, expected):
    from portal.core.ids import parse_id

    assert parse_id(typed) == expected


def test_out_of_range_ids_in_urls_are_404(client, world):
    for url in ("/brouillons/99999999999999999999/recapitulatif", "/relations/2147483648/modifier",
                f"/porte-documents/{HUGE_DIGITS}/modifier"):
        assert client.get(url).status_code == 404


def test_huge_page_numbers_in_mes_demarches(client, world):
    for value in ("99999999999999999999", HUGE_DIGITS, "²", "-5"):
        response = client.get(f"/mes-demarches?brouillons={value}&demandes={value}")
        assert response.status_code == 200


def test_text_fields_ignore_files_and_json(client, world):
    token = csrf_token(client)
    as_file = client.post("/compte/informations", content_type="multipart/form-data",
                          data={"csrf_token": token, "prenom": (io.BytesIO(b"x"), "x.txt")})
    as_json = client.post("/compte/informations", json={"prenom": {"x": 1}}, headers={"X-CSRFToken": token})
    assert as_file.status_code in (303, 422) and as_json.status_code in (303, 422)


class TestLabelsOutsideLatin1:
    """A conditional question whose label holds ’ or œ: shown and announced without a header
    that gunicorn could not send (it answered a bare 500 after the save was committed)."""

    @pytest.fixture
    def app_config(self, tmp_path):
        import shutil

        import yaml

        from portal.demarches.definitions import PROCEDURES_DIR

        folder = tmp_path / "procedures"
        shutil.copytree(PROCEDURES_DIR, folder)
        definition = yaml.safe_load((folder / "cmi_eligibilite.yaml").read_text(encoding="utf-8"))
        gir = next(f for f in definition["steps"][0]["fields"] if f["id"] == "gir")
        gir["label"] = "Votre niveau GIR d’après l’évaluation de vos œuvres quotidiennes"
        (folder / "cmi_eligibilite.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
        return {"DEMARCHES_DIR": str(folder)}

    def test_refresh_announces_the_question_in_the_body(self, client):
        token = csrf_token(client, "/demarches/cmi_eligibilite")
        response = client.post("/demarches/cmi_eligibilite/actualiser", headers={"HX-Request": "true"},
                               data={"csrf_token": token, "apa": "beneficiaire", "_shown": "reside,nationalite,apa"})
        assert response.status_code == 200
        for value in response.headers.values():
            value.encode("latin-1")
        assert "d’après l’évaluation de vos œuvres" in page(response)
