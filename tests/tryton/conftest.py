"""Tryton tests run against a real trytond (GPL: a child process spoken to over JSON-RPC, never
imported). Without the `tryton` extra they are skipped with the install hint. The bootstrapped
template is cached per machine (tests/support/tryton.py); each test module that asks for
`tryton_endpoint` gets its own copy of the database and its own server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime.tryton_server import TrytonEndpoint
from tests.support.tryton import TRYTON_MISSING, tryton_available, tryton_in_background


@pytest.fixture(scope="module")
def tryton_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonEndpoint]:
    if not tryton_available():
        pytest.skip(TRYTON_MISSING)
    with tryton_in_background(tmp_path_factory.mktemp("tryton-state")) as endpoint:
        yield endpoint
