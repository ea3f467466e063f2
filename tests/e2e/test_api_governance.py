"""The governed API against `supplybridge up`, as a partner or an auditor meets it: schemathesis
over the whole OpenAPI document with a token from `supplybridge token issue`, refusals with
problem bodies, replayed Idempotency-Keys, and `supplybridge audit verify` before and after a
row is altered in the database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from runtime.settings import DEV_JWT_SECRET
from tests.e2e.conftest import Stack
from tests.examples import example_json
from tests.support.api import problem_of

pytestmark = pytest.mark.e2e
ALL_SCOPES = (
    "suppliers:write procurement:write invoices:write tasks:decide audit:read events:write "
    "intake:write"
)  # reads implied


def token(stack: Stack, scopes: str = ALL_SCOPES, teams: str = "*", subject: str = "partner") -> str:
    _, out = stack.cli("token", "issue", "--scopes", scopes, "--teams", teams, "--subject", subject)
    return str(out["access_token"])


def call(stack: Stack, method: str, path: str, bearer: str | None, **kw: Any) -> httpx.Response:
    headers = {**kw.pop("headers", {}), **({"Authorization": f"Bearer {bearer}"} if bearer else {})}
    return httpx.request(method, f"{stack.api}{path}", headers=headers, timeout=60, **kw)


@pytest.fixture(scope="module", autouse=True)
def _rate_limit_raised_for_the_fuzzer() -> Iterator[None]:
    """Schemathesis sends thousands of requests as one principal: the stack of this module (started
    after this fixture, which is autouse) gets a per-principal and per-address limit it never meets."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUPPLYBRIDGE_RATE_LIMIT_PER_MINUTE", "1000000")
        patch.setenv("SUPPLYBRIDGE_ADDRESS_RATE_LIMIT_PER_MINUTE", "1000000")
        yield


def test_schemathesis_finds_nothing_with_every_check_and_the_stateful_phase(stack: Stack) -> None:
    """Every check (status codes and content types as documented, schema-valid data accepted,
    schema-violating data refused, ...) over the examples, coverage, fuzzing and stateful phases;
    bounded by `--max-examples` so it stays within a few minutes on 2 cores. One worker: with two,
    hypothesis parses lambdas' source in threads and CPython 3.11's `ast.parse` can fail with
    "AST constructor recursion depth mismatch" (a race in the interpreter, not in the API)."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "run", f"{stack.api}/openapi.json",
         "-H", f"Authorization: Bearer {token(stack)}",
         "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
         "--max-examples", "25", "--seed", "20261124", "--request-timeout", "30", "--workers", "1"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_refusals_have_the_right_status_and_a_problem_body(stack: Stack) -> None:
    po = {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": "PO-2027-200001"}
    problem_of(call(stack, "POST", "/v1/purchase-orders", None, json=po), 401)
    claims = jwt.decode(token(stack), options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, DEV_JWT_SECRET, "HS256")
    problem_of(call(stack, "POST", "/v1/purchase-orders", expired, json=po), 401)
    elsewhere = jwt.encode({**claims, "aud": "someone-else"}, DEV_JWT_SECRET, "HS256")
    problem_of(call(stack, "POST", "/v1/purchase-orders", elsewhere, json=po), 401)
    problem_of(call(stack, "POST", "/v1/purchase-orders", token(stack, "invoices:write"), json=po), 403)

    off_contract = {**example_json("purchase-orders/po-off-contract-price.json"), "po_number": "PO-2027-200002"}
    submitted = call(stack, "POST", "/v1/purchase-orders?wait=true", token(stack), json=off_contract)
    assert submitted.status_code == 202 and submitted.json()["result"]["open_exception"]["team"] == "pricing"
    receiving = token(stack, "tasks:decide", "receiving", "rio")
    decision = {"action": "approve", "reason": "spot buy"}
    problem_of(call(stack, "POST", "/v1/tasks/purchase-order-PO-2027-200002/decision", receiving, json=decision), 403)
    pricing = token(stack, "tasks:decide", "pricing", "pat")
    inbox = call(stack, "GET", "/v1/tasks", pricing).json()["items"]
    assert "purchase-order-PO-2027-200002" in [t["exception_id"] for t in inbox]
    decided = call(stack, "POST", "/v1/tasks/purchase-order-PO-2027-200002/decision", pricing, json=decision)
    assert decided.status_code == 200, decided.text


def test_a_replayed_idempotency_key_starts_no_second_workflow(stack: Stack) -> None:
    invoice = {**example_json("invoices/inv-clean.json"), "invoice_number": "NSS-IDEM-1", "po_number": "PO-NONE"}
    headers = {"Idempotency-Key": "partner-inv-1"}
    first = call(stack, "POST", "/v1/invoices", token(stack), json=invoice, headers=headers)
    again = call(stack, "POST", "/v1/invoices", token(stack), json=invoice, headers=headers)
    assert first.status_code == again.status_code == 202 and again.headers.get("Idempotent-Replayed") == "true"
    other = call(stack, "POST", "/v1/invoices", token(stack), json={**invoice, "freight": "5.00"}, headers=headers)
    problem_of(other, 422)
    described = subprocess.run(
        [str(Path(sys.executable).parent / "temporal"), "workflow", "list", "--address", stack.temporal,
         "--query", "WorkflowId = 'invoice-SUP-0002-NSS-IDEM-1'", "-o", "json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert described.returncode == 0 and len(json.loads(described.stdout or "[]")) == 1


def test_the_audit_trail_verifies_and_fails_after_one_row_is_altered(stack: Stack) -> None:
    call(stack, "POST", "/v1/purchase-orders", token(stack, subject="auditor-check"),
         json={**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": "PO-2027-200003"})  # fmt: skip
    entries = call(stack, "GET", "/v1/audit?actor=auditor-check", token(stack)).json()["items"]
    assert [e["action"] for e in entries] == ["purchase_order.submitted"]
    code, report = stack.cli("audit", "verify", "--state-dir", stack.state)
    assert code == 0 and report["ok"] and report["entries"] >= 1

    with sqlite3.connect(Path(stack.state) / "supplybridge.sqlite") as db:
        db.execute("UPDATE audit_entries SET actor = 'mallory' WHERE seq = ?", (entries[0]["seq"],))
    code, report = stack.cli("audit", "verify", "--state-dir", stack.state)
    assert code == 1 and report["first_broken_seq"] == entries[0]["seq"]
