"""Tax ids and bank numbers never print in clear, but travel in clear inside serialised payloads."""

from __future__ import annotations

import logging

from tests.examples import supplier_request

CLEAR_VALUES = ("45-2873311", "021000021", "883100245561")


def test_repr_str_and_format_are_masked() -> None:
    request = supplier_request("new-supplier")
    rendered = [repr(request), str(request), f"{request.tax_id.value}", f"{request.bank_account}"]
    for text in rendered:
        for value in CLEAR_VALUES:
            assert value not in text
    assert str(request.tax_id.value) == "•••••3311"


def test_log_lines_are_masked(caplog) -> None:  # type: ignore[no-untyped-def]
    request = supplier_request("new-supplier")
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("onboarding %s with %s", request.tax_id, request.bank_account)
    assert not any(v in caplog.text for v in CLEAR_VALUES)


def test_serialisation_keeps_the_value_for_the_systems_that_need_it() -> None:
    request = supplier_request("new-supplier")
    dumped = request.model_dump_json()
    assert all(v in dumped for v in CLEAR_VALUES)
    again = type(request).model_validate_json(dumped)
    assert again.tax_id.value.reveal() == "45-2873311" and again == request
