"""Login throttling under attack: the address never locks out its honest users, and parallel
guesses at one account get exactly the free attempts, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from portal import db
from portal.accounts.models import LoginThrottle
from tests.conftest import PASSWORD, csrf_token, page

ATTACKED_ADDRESS = "203.0.113.7"
WRONG = "Identifiant ou mot de passe incorrect."


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _login(client, login: str, password: str):
    return client.post("/connexion", data={"csrf_token": csrf_token(client), "login": login, "password": password})


def _block_the_address(app) -> None:
    attacker = _client_at(app, ATTACKED_ADDRESS)
    for n in range(20):
        _login(attacker, f"inconnu{n}@example.org", "Mauvais-1!")
    assert "Trop de tentatives" in page(_login(attacker, "inconnu0@example.org", "Mauvais-1!"))


def test_owner_behind_a_blocked_address_logs_in_with_the_right_password(app, create_user):
    create_user(email="mairie@example.org")
    _block_the_address(app)
    counter = _client_at(app, ATTACKED_ADDRESS)  # the same town hall counter, another person
    assert _login(counter, "mairie@example.org", PASSWORD).status_code == 303
    # A wrong password from there is still held back by the address's delay.
    other = _client_at(app, ATTACKED_ADDRESS)
    assert "Trop de tentatives" in page(_login(other, "mairie@example.org", "Mauvais-1!"))


def test_an_account_being_guessed_from_a_blocked_address_waits(app, create_user):
    create_user(email="cible@example.org")
    _block_the_address(app)
    attacker = _client_at(app, ATTACKED_ADDRESS)
    _login(attacker, "cible@example.org", "Mauvais-1!")  # the account now has a failure of its own
    assert "Trop de tentatives" in page(_login(attacker, "cible@example.org", PASSWORD))


def test_known_browser_is_never_refused_by_its_address(app, create_user):
    create_user(email="connu@example.org")
    owner = _client_at(app, ATTACKED_ADDRESS)
    assert _login(owner, "connu@example.org", PASSWORD).status_code == 303
    owner.post("/deconnexion", data={"csrf_token": csrf_token(owner, "/compte")})
    _block_the_address(app)
    attacker = _client_at(app, ATTACKED_ADDRESS)
    for _ in range(6):  # the account's own counter is blocked too
        _login(attacker, "connu@example.org", "Mauvais-1!")
    assert _login(owner, "connu@example.org", PASSWORD).status_code == 303


def test_parallel_guesses_get_exactly_the_free_attempts(app, create_user):
    """24 guesses at once: exactly LOGIN_FREE_ATTEMPTS are checked, the rest wait."""
    user = create_user(email="parallele@example.org")
    guesses = 24
    clients = [_client_at(app, f"198.51.100.{n + 1}") for n in range(guesses)]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(guesses)
    answers: list[str] = [""] * guesses

    def guess(n: int) -> None:
        start.wait()
        response = clients[n].post("/connexion", data={"csrf_token": tokens[n], "login": "parallele@example.org",
                                                       "password": f"Mauvais-{n}!"})
        answers[n] = page(response)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    evaluated = sum(WRONG in answer for answer in answers)
    throttled = sum("Trop de tentatives" in answer for answer in answers)
    assert (evaluated, throttled) == (free, guesses - free), answers
    db.session.remove()
    with app.app_context():
        assert db.session.get(LoginThrottle, f"account:{user.id}").failures == free
