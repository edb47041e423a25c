"""Account enumeration by timing: the forgotten-password, forgotten-identifier and
registration requests take the same time whether or not the account exists.

The request only records an ``account_requests`` row (the same in both cases); the worker
decides and queues the email. This test measures both cases, interleaved in a seeded random
order so that a load spike on a shared machine hits both alike, and compares them with a
two-sided Mann-Whitney U test (normal approximation, tie-corrected). It fails only when the
difference is significant at p < 0.001, so noise alone almost never fails it.
"""

from __future__ import annotations

import gc
import math
import random
import time

import pytest

from tests.conftest import csrf_token

SAMPLES = 40  # per case
ALPHA = 0.001


def mann_whitney_p(first: list[float], second: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, tie correction)."""
    values = sorted([(v, 0) for v in first] + [(v, 1) for v in second])
    ranks = [0.0] * len(values)
    ties = 0.0
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1][0] == values[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        count = j - i + 1
        ties += count ** 3 - count
        i = j + 1
    n1, n2 = len(first), len(second)
    rank_sum = sum(rank for rank, (_v, group) in zip(ranks, values, strict=True) if group == 0)
    u = rank_sum - n1 * (n1 + 1) / 2
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    return math.erfc(max(z, 0) / math.sqrt(2))


def test_mann_whitney_tells_apart_what_differs_and_not_what_does_not():
    rng = random.Random(7)
    same = [rng.gauss(10, 1) for _ in range(40)], [rng.gauss(10, 1) for _ in range(40)]
    shifted = [rng.gauss(10, 1) for _ in range(40)], [rng.gauss(11.5, 1) for _ in range(40)]
    assert mann_whitney_p(*same) > 0.01
    assert mann_whitney_p(*shifted) < ALPHA


CASES = {
    "mot de passe oublié": ("/mot-de-passe-oublie", "login", "existe@example.org", "absent@example.org"),
    "identifiant oublié": ("/identifiant-oublie", "email", "existe@example.org", "absent@example.org"),
    "inscription": ("/inscription", "email", "existe@example.org", "absent@example.org"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_answer_time_does_not_tell_whether_the_account_exists(app, create_user, case):
    url, field, existing, missing = CASES[case]
    create_user(email=existing)
    client = app.test_client()
    token = csrf_token(client, url)

    def timed(login: str) -> float:
        data = {"csrf_token": token, field: login}
        if field == "email" and url == "/inscription":
            data["email_confirm"] = login
        started = time.perf_counter()
        response = client.post(url, data=data)
        elapsed = time.perf_counter() - started
        assert response.status_code == 303, response.status_code
        return elapsed

    for _ in range(5):  # warm-up: templates, caches, connections
        timed(existing), timed(missing)
    rng = random.Random(20261208)
    times: dict[str, list[float]] = {existing: [], missing: []}
    gc.disable()
    try:
        for _ in range(SAMPLES):
            pair = [existing, missing]
            rng.shuffle(pair)
            for login in pair:
                times[login].append(timed(login))
    finally:
        gc.enable()
    p = mann_whitney_p(times[existing], times[missing])
    median = {login: sorted(values)[len(values) // 2] * 1000 for login, values in times.items()}
    assert p >= ALPHA, (
        f"« {case} » answers in {median[existing]:.2f} ms (median) for an existing account and "
        f"{median[missing]:.2f} ms for a missing one: the difference is significant (Mann-Whitney "
        f"p = {p:.2g} < {ALPHA}), so the timing reveals which addresses have an account."
    )
