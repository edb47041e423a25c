"""The national pré-demande API client, against a local test server speaking the same JSON."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.appointments_support import make_town
from tests.conftest import PASSWORD, free_port, post_form
from tests.conftest import page as page_of

ANSWERS = {
    "VALID00001": {"status": "validated", "appointments": []},
    "ELSEWHERE1": {"status": "validated", "appointments": [
        {"meeting_point": "Mairie de Chelles", "appointment_date": "2027-01-04T09:00:00+01:00",
         "management_url": "https://rdv.example.org/gerer/42"}]},
    "CONSUMED01": {"status": "consumed", "appointments": []},
    "EXPIRED001": {"status": "expired", "appointments": []},
}
TOKEN = "jeton-de-test"


class FakeAnts(BaseHTTPRequestHandler):
    seen: list[tuple[list[str], str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        numbers = parse_qs(url.query).get("application_ids", [])
        FakeAnts.seen.append((numbers, self.headers.get("x-rdv-opt-auth-token", "")))
        if url.path != "/status" or "BROKEN0001" in numbers:
            self.send_response(500)
            self.end_headers()
            return
        body = json.dumps({n: ANSWERS.get(n, {"status": "unknown", "appointments": []}) for n in numbers})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def ants_url():
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), FakeAnts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def app_config(ants_url):
    return {"PREDEMANDE_API_URL": ants_url, "PREDEMANDE_API_TOKEN": TOKEN}


@pytest.fixture
def at_details(app, client, create_user, auth):
    town = make_town(app, min_delay_hours=0)
    create_user(email="camille@example.org", date_naissance=date(1985, 7, 14))
    auth.login("camille@example.org", PASSWORD)
    post_form(client, "/rendez-vous/prendre", {"motif": town["motif"]})
    post_form(client, "/rendez-vous/prendre/personnes", {"who": ["moi"]})

    def submit(number: str):
        return post_form(client, "/rendez-vous/prendre/situations",
                         {"moi-situation": "premiere", "moi-titre": "oui", "moi-predemande": number})
    return submit


@pytest.mark.parametrize("number, message", [
    ("CONSUMED01", "a déjà servi à déposer une demande"),
    ("EXPIRED001", "a expiré"),
    ("UNKNOWN001", "est inconnu"),
    ("BROKEN0001", "ne répond pas"),  # fail closed
])
def test_numbers_refused_by_the_national_service(at_details, number, message):
    response = at_details(number)
    assert response.status_code == 422 and message in page_of(response)


def test_a_validated_number_goes_on_and_the_token_is_sent(at_details):
    FakeAnts.seen.clear()
    assert at_details("VALID00001").status_code == 303
    assert FakeAnts.seen == [(["VALID00001"], TOKEN)]


def test_an_appointment_elsewhere_is_told_with_its_link(at_details, client):
    assert at_details("ELSEWHERE1").status_code == 303
    page = page_of(client.get("/rendez-vous/prendre/pieces"))
    assert "Mairie de Chelles" in page and "https://rdv.example.org/gerer/42" in page
