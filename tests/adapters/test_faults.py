"""Injected faults reach the adapters as the typed errors activities act on."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.erp_http import HttpErp
from adapters.errors import AuthenticationError, TransientError
from adapters.http import SystemClient
from domain.supplier import ErpSupplierDraft, TaxId, TaxIdKind
from tests.support.sandbox import RunningSandbox

TAX_ID = "61-2345678"


def draft() -> ErpSupplierDraft:
    return ErpSupplierDraft(
        legal_name="Harborview Medical Supply LLC",
        tax_id=TaxId(kind=TaxIdKind.EIN, value=TAX_ID),
        payment_terms="NET30",
    )


def set_faults(sandbox: RunningSandbox, system: str, **settings: Any) -> None:
    sandbox.admin("PUT", f"/admin/faults/{system}", settings)


async def test_throttling_is_transient_and_carries_retry_after(erp: HttpErp, sandbox: RunningSandbox) -> None:
    set_faults(sandbox, "erp", throttle_rate=1.0, retry_after_seconds=3)

    with pytest.raises(TransientError) as raised:
        await erp.get_supplier("SUP-0001")

    assert (raised.value.status, raised.value.retry_after) == (429, 3.0)


async def test_an_outage_is_transient_and_spares_other_systems(erp: HttpErp, sandbox: RunningSandbox) -> None:
    set_faults(sandbox, "erp", outage=True)

    with pytest.raises(TransientError) as raised:
        await erp.get_supplier("SUP-0001")

    assert raised.value.status == 503
    assert sandbox.admin("GET", "/contracts/contracts/CTR-2026-0107")["supplier_id"] == "SUP-0002"
    assert sandbox.admin("GET", "/health")["status"] == "ok"


async def test_latency_beyond_the_client_timeout_is_transient(sandbox: RunningSandbox) -> None:
    set_faults(sandbox, "erp", latency_ms=500)

    async with SystemClient("erp", sandbox.system_url("erp"), token=sandbox.token, timeout=0.1, attempts=1) as client:
        with pytest.raises(TransientError, match="timed out"):
            await client.request("GET", "/suppliers/SUP-0001")


async def test_a_lost_response_retried_with_the_same_key_creates_one_supplier(
    erp: HttpErp, sandbox: RunningSandbox
) -> None:
    set_faults(sandbox, "erp", error_rate=1.0, error_phase="after")

    with pytest.raises(TransientError) as raised:
        await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")
    assert raised.value.status == 500
    sandbox.admin("DELETE", "/admin/faults/erp")
    retried = await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")

    assert [s.erp_supplier_id async for s in erp.list_suppliers(tax_id=TAX_ID)] == [retried.erp_supplier_id]


async def test_an_error_before_the_handler_changes_nothing(erp: HttpErp, sandbox: RunningSandbox) -> None:
    set_faults(sandbox, "erp", error_rate=1.0, error_phase="before")

    with pytest.raises(TransientError):
        await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")
    sandbox.admin("DELETE", "/admin/faults")

    assert [s async for s in erp.list_suppliers(tax_id=TAX_ID)] == []


async def test_random_errors_with_retries_still_create_one_supplier(erp: HttpErp, sandbox: RunningSandbox) -> None:
    set_faults(sandbox, "erp", error_rate=0.5)

    created = None
    for _attempt in range(40):
        try:
            created = await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")
            break
        except TransientError:
            continue
    sandbox.admin("DELETE", "/admin/faults")

    assert created is not None
    assert [s.erp_supplier_id async for s in erp.list_suppliers(tax_id=TAX_ID)] == [created.erp_supplier_id]


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_a_missing_or_wrong_token_is_an_authentication_error(sandbox: RunningSandbox, token: str | None) -> None:
    async with SystemClient("erp", sandbox.system_url("erp"), token=token, attempts=1) as client:
        with pytest.raises(AuthenticationError) as raised:
            await HttpErp(client).get_supplier("SUP-0001")

    assert (raised.value.status, raised.value.code) == (401, "unauthorized")
