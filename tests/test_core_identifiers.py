"""SIRET and postcode rules: a real number is accepted, a mistyped one is refused."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.core.identifiers import normalise_siret, postcode_is_valid, siret_is_valid

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)
LA_POSTE_ESTABLISHMENT = "35600000049837"  # fails the Luhn key, digits sum to 45


def luhn_completed(prefix: str) -> str:
    """``prefix`` (13 digits) followed by the one key digit that makes a valid SIRET."""
    for key in "0123456789":
        if siret_is_valid(prefix + key) and not (prefix + key).startswith("356000000"):
            return prefix + key
    raise AssertionError(prefix)


@pytest.mark.parametrize("value, valid", [
    ("73282932000074", True),             # a real SIRET
    ("732 829 320 00074", True),          # grouped as printed
    ("732.829.320.00074", True),
    ("732-829-320-00074", True),
    ("\t73282932000074\n", True),
    ("73282932000075", False),            # wrong key
    ("73282932000047", False),            # two digits swapped
    ("7328293200007", False),             # 13 digits
    ("732829320000740", False),           # 15 digits
    ("7328293200007a", False),
    ("", False),
    (None, False),
    ("00000000000000", True),             # Luhn sum 0
    ("00000000000018", True),             # the doubled digit: 1*2 + 8 = 10
    ("00000000000059", True),             # 5*2 = 10 -> 1, + 9 = 10
    ("00000000000091", True),             # 9*2 = 18 -> 9, + 1 = 10
    ("00000000000090", False),            # 18 - 9 = 9, not 18
    ("00000000000109", True),             # an odd position is not doubled: 1 + 9
    ("00000000000027", False),            # 2*2 + 7 = 11
    ("35600000000048", True),             # La Poste's head office follows the Luhn key
    ("35600000000049", False),
    (LA_POSTE_ESTABLISHMENT, True),       # La Poste: digit sum a multiple of 5
    ("35600000049838", False),            # digit sum 46
    ("35600000000055", False),            # digit sum 24
])
def test_siret(value, valid):
    assert siret_is_valid(value) is valid


def test_la_poste_rule_applies_to_its_siren_only():
    # Digit sum a multiple of 5 but a wrong Luhn key: only La Poste's SIREN may use the sum rule.
    for siret in ("35700000049836", "03560000004985"):
        assert sum(int(c) for c in siret) % 5 == 0
        assert not siret_is_valid(siret)


@PROPERTY
@given(prefix=st.text(alphabet="0123456789", min_size=13, max_size=13),
       position=st.integers(min_value=0, max_value=13), shift=st.integers(min_value=1, max_value=9))
def test_one_changed_digit_makes_a_siret_invalid(prefix, position, shift):
    assume(not prefix.startswith("356000000"))
    valid = luhn_completed(prefix)
    assert siret_is_valid(valid)
    changed = valid[:position] + str((int(valid[position]) + shift) % 10) + valid[position + 1:]
    assume(not changed.startswith("356000000"))
    assert not siret_is_valid(changed)


@PROPERTY
@given(tail=st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_la_poste_establishments_follow_the_digit_sum(tail):
    siret = "356000000" + tail
    assume(siret != "35600000000048")
    assert siret_is_valid(siret) is (sum(int(c) for c in siret) % 5 == 0)


def test_normalise_siret():
    assert normalise_siret(" 732 829.320-00074 ") == "73282932000074"
    assert normalise_siret(None) == ""


@pytest.mark.parametrize("value, valid", [
    ("62000", True), ("75001", True), ("01000", True), ("20000", True), ("95880", True),
    ("97400", True), ("98800", True), (" 62000 ", True),
    ("00100", False), ("99000", False), ("6200", False), ("620000", False), ("62 000", False),
    ("6200a", False), ("", False), (None, False),
])
def test_postcode(value, valid):
    assert postcode_is_valid(value) is valid
