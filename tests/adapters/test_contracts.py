"""HttpContracts against the sandbox contract management system."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.contracts_http import HttpContracts
from adapters.errors import BusinessRuleError, NotFoundError
from tests.support.sandbox import RunningSandbox


async def test_a_contract_parses_with_decimal_prices(contracts: HttpContracts) -> None:
    contract = await contracts.get_contract("CTR-2026-0107")

    assert contract.supplier_id == "SUP-0002"
    assert contract.price_for("ITM-1001", "CS", Decimal(150)) == Decimal("57.50")


async def test_linking_sets_a_contract_without_supplier(contracts: HttpContracts, sandbox: RunningSandbox) -> None:
    sandbox.admin(
        "POST",
        "/contracts/admin/contracts",
        {
            "contract_id": "CTR-NEW-0001",
            "supplier_id": None,
            "effective_from": "2026-01-01",
            "effective_to": "2026-12-31",
            "status": "active",
        },
    )

    linked = await contracts.link_supplier("CTR-NEW-0001", "SUP-0007", idempotency_key="link-1")

    assert linked.supplier_id == "SUP-0007"
    assert (await contracts.get_contract("CTR-NEW-0001")).supplier_id == "SUP-0007"


async def test_linking_the_same_supplier_again_is_a_no_op(contracts: HttpContracts) -> None:
    linked = await contracts.link_supplier("CTR-2026-0107", "SUP-0002", idempotency_key="link-2")

    assert linked.supplier_id == "SUP-0002"


async def test_linking_another_supplier_is_a_mismatch(contracts: HttpContracts) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        await contracts.link_supplier("CTR-2026-0107", "SUP-0001", idempotency_key="link-3")

    assert raised.value.code == "supplier_mismatch"
    assert (await contracts.get_contract("CTR-2026-0107")).supplier_id == "SUP-0002"


async def test_linking_an_unknown_contract_is_not_found(contracts: HttpContracts) -> None:
    with pytest.raises(NotFoundError):
        await contracts.link_supplier("CTR-0000-0000", "SUP-0001", idempotency_key="link-4")
