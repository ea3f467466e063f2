"""The party conventions of adapters/tryton/parties.py that are pure functions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.tryton.parties import postal_code_with_state, state_and_postal_code

STATES = st.text(alphabet=st.characters(categories=["Lu", "Nd"]), min_size=2, max_size=3)
POSTAL_CODES = st.text(alphabet=st.characters(categories=["Lu", "Nd", "Zs"]), min_size=3, max_size=10).filter(
    lambda code: code.strip() == code and " " not in code[:1]
)


@given(state=STATES, postal_code=POSTAL_CODES)
def test_a_state_kept_in_front_of_the_postal_code_reads_back_apart(state: str, postal_code: str) -> None:
    assert state_and_postal_code(postal_code_with_state(state, postal_code)) == (state, postal_code)


def test_a_postal_code_with_a_space_keeps_it() -> None:
    assert postal_code_with_state("ON", "K1A 0B1") == "ON K1A 0B1"
    assert state_and_postal_code("ON K1A 0B1") == ("ON", "K1A 0B1")


def test_a_postal_code_typed_without_a_state_is_all_postal_code() -> None:
    assert state_and_postal_code("60611") == ("", "60611")
