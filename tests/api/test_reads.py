"""Issue 9, item 2: reading runs needs the process's read scope (implied by its write scope), and
a principal sees only its teams' runs, its suppliers' runs or what it submitted; the evidence of
an exception (contract prices, dispute history) only its deciding team, accounts-payable and `*`.
Item 8: a query datetime is ISO 8601 only."""

from __future__ import annotations

from pathlib import Path

from tests.api import test_api_v1
from tests.api.test_api_v1 import api, bearer, is_problem
from tests.examples import example_json
from tests.support.harness import Harness

PO = "/v1/purchase-orders/PO-2026-000452"
RUN = "/v1/runs/purchase-order-PO-2026-000452"

harness, systems = test_api_v1.harness, test_api_v1.systems  # the dev-server fixtures


def off_contract() -> dict[str, object]:
    body = example_json("purchase-orders/po-off-contract-price.json")
    return {**body, "po_number": "PO-2026-000452"}


async def test_reading_needs_the_read_scope_and_sees_only_ones_own_runs(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        requester = bearer(settings, ["procurement:write"], [], subject="nurse-ann")
        submitted = await client.post("/v1/purchase-orders?wait=true", json=off_contract(), headers=requester)
        assert submitted.status_code == 202 and submitted.json()["stage"] == "awaiting_approval", submitted.text

        no_scope = bearer(settings, [], ["*"], subject="nobody")
        assert is_problem(await client.get(PO, headers=no_scope), 403)["scope"] == "procurement:read"
        is_problem(await client.get(RUN, headers=no_scope), 403)
        invoices_only = bearer(settings, ["invoices:read"], ["*"], subject="ap-clerk")
        is_problem(await client.get(RUN, headers=invoices_only), 403)

        # a reader of another team, another requester, another supplier: as if it did not exist
        for other in (
            bearer(settings, ["procurement:read"], ["receiving"], subject="rio"),
            bearer(settings, ["procurement:write"], [], subject="nurse-bob"),
            bearer(settings, ["procurement:read"], [], subject="vendor", suppliers=["SUP-0002"]),
        ):
            assert "PO-2026-000452" in is_problem(await client.get(PO, headers=other), 404)["detail"]
            is_problem(await client.get(RUN, headers=other), 404)

        # its requester (write implies read), the deciding team, purchasing, its supplier, `*`
        supplier_id = off_contract()["supplier_id"]
        assert isinstance(supplier_id, str)
        for allowed in (
            requester,
            bearer(settings, ["procurement:read"], ["pricing"], subject="pat"),
            bearer(settings, ["procurement:read"], ["purchasing-managers"], subject="pam"),
            bearer(settings, ["procurement:read"], [], subject="vendor", suppliers=[supplier_id]),
            bearer(settings, ["procurement:read"], ["*"], subject="admin"),
        ):
            for path in (PO, RUN):
                got = await client.get(path, headers=allowed)
                assert got.status_code == 200 and got.json()["stage"] == "awaiting_approval", got.text

        is_problem(await client.get("/v1/runs/not-a-process-of-ours", headers=bearer(settings)), 404)
        is_problem(await client.get("/v1/runs/invoice-SUP-0002-NOPE", headers=bearer(settings)), 404)


async def test_evidence_is_shown_to_the_deciding_team_and_accounts_payable_only(
    harness: Harness, tmp_path: Path
) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        requester = bearer(settings, ["procurement:write"], [], subject="nurse-ann")
        submitted = await client.post("/v1/purchase-orders?wait=true", json=off_contract(), headers=requester)
        opened = submitted.json()["result"]["open_exception"]
        assert opened["team"] == "pricing" and opened["evidence"] == {}, "the requester sees no contract prices"

        for team in ("pricing", "pricing-managers", "*"):
            got = await client.get(RUN, headers=bearer(settings, ["procurement:read"], [team]))
            assert got.json()["result"]["open_exception"]["evidence"]["lines_above_contract"], team
        for headers in (requester, bearer(settings, ["procurement:read"], ["purchasing"])):
            got = await client.get(RUN, headers=headers)
            assert got.status_code == 200 and got.json()["result"]["open_exception"]["evidence"] == {}


async def test_audit_datetimes_are_iso_8601_only(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        for query in ("until=0.5", "since=1700000000", "until=not-a-date"):
            problem = is_problem(await client.get(f"/v1/audit?{query}", headers=bearer(settings)), 422)
            assert problem["errors"][0]["field"] == f"query.{query.split('=')[0]}"
        ok = await client.get("/v1/audit?since=2026-01-01T00:00:00Z", headers=bearer(settings))
        assert ok.status_code == 200
