"""Issue 14 over HTTP: `POST /v1/intake/files` (a raw file of any media type up to the intake limit,
its name in `X-File-Name`; 200 with its result, 202 while it runs), the trading partners and the
dead letters, with their scopes (`intake:write`; a vendor partner sees only its own partners and no
dead letter), 404s, 409s, validation and the audit trail. Temporal is not needed: the intake
operations are replaced by stand-ins that keep the file in the store as the real ones do."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.intake import (
    DeadLetterStatus,
    FileKind,
    IntakeDeadLetter,
    IntakeRecord,
    IntakeResult,
    IntakeSource,
    Partner,
    RecordOutcome,
    ReplayResult,
)
from runtime.settings import Settings
from starter.api.app import create_app
from starter.api.security import issue_token
from starter.operations import intake as intake_operations
from starter.operations.intake import NotReplayable, StillProcessing
from store import Store
from tests.examples import EXAMPLES, example_json
from tests.support.api import problem_of

X12 = (EXAMPLES.parent / "tests" / "data" / "edi" / "810-cascadia-invoice.edi").read_bytes()
INTAKE_LIMIT = 512 * 1024  # above the JSON routes' 256 KiB


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(state_dir=tmp_path, intake_max_file_bytes=INTAKE_LIMIT)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, client=object(), store=store)  # type: ignore[arg-type]
    app.state.temporal, app.state.store = object(), store
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, settings, store
    finally:
        store.close()


def bearer(settings: Settings, scopes: tuple[str, ...] = ("intake:write",), **kw: Any) -> dict[str, str]:
    token, _ = issue_token(settings, kw.pop("subject", "ana"), list(scopes), ["*"], **kw)
    return {"Authorization": f"Bearer {token}"}


def add_letter(store: Store, position: str = "ST 0001 (segment 3)") -> IntakeDeadLetter:
    return store.intake.add_dead_letter(
        IntakeDeadLetter(file_id="f" * 64, file_name="810.edi", kind="x12:810", position=position,
                         partner_id="CASCADIAPHARM", key="CPD-30460", reason="unknown PO PO-2026-000460",
                         raw="ST*810*0001~SE*2*0001~")
    )  # fmt: skip


def audited(store: Store) -> list[tuple[str, str, str, str | None]]:
    return [(e.actor, e.action, e.record_id, e.outcome) for e in store.audit.query(limit=100)]


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`submit_file` replaced: keeps the bytes in the store, then answers (or is still running for
    a file named slow*, or finds a dead letter in a file named bad*)."""
    calls: list[dict[str, Any]] = []

    async def submit(client: Any, settings: Settings, store: Any, name: str, data: bytes, source: IntakeSource,
                     submitted_by: str, *, wait: float) -> IntakeResult:  # fmt: skip
        calls.append({"name": name, "source": source, "by": submitted_by, "size": len(data), "wait": wait})
        file_id = hashlib.sha256(data).hexdigest()
        if not store.save_file(file_id, name, source, data):
            return IntakeResult(file_id=file_id, name=name, kind=FileKind.X12, duplicate_of=f"intake-{file_id[:24]}")
        if name.startswith("slow"):
            raise StillProcessing(f"intake-{file_id[:24]}")
        outcome = RecordOutcome.DEAD_LETTER if name.startswith("bad") else RecordOutcome.STARTED
        result = IntakeResult(file_id=file_id, name=name, kind=FileKind.X12,
                              records=[IntakeRecord(position="ST 0001", kind="x12:810", outcome=outcome)])  # fmt: skip
        store.finish_file(result)
        return result

    monkeypatch.setattr(intake_operations, "submit_file", submit)
    return calls


# --- files --------------------------------------------------------------------------------------


async def test_a_file_is_taken_as_its_raw_bytes_and_answered_with_its_result(
    api: tuple[httpx.AsyncClient, Settings, Store], submitted: list[dict[str, Any]]
) -> None:
    client, settings, store = api
    headers = bearer(settings) | {"X-File-Name": "810-cascadia-invoice.edi", "Content-Type": "application/edi-x12"}
    response = await client.post("/v1/intake/files", content=X12, headers=headers)
    assert response.status_code == 200, response.text
    result = IntakeResult.model_validate(response.json())
    assert result.file_id == hashlib.sha256(X12).hexdigest() and result.records[0].outcome is RecordOutcome.STARTED
    assert submitted == [{"name": "810-cascadia-invoice.edi", "source": IntakeSource.API, "by": "ana",
                          "size": len(X12), "wait": 10.0}]  # fmt: skip
    read = await client.get(f"/v1/intake/files/{result.file_id}", headers=bearer(settings))
    assert read.status_code == 200 and IntakeResult.model_validate(read.json()) == result

    again = await client.post("/v1/intake/files", content=X12, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate_of"] == f"intake-{result.file_id[:24]}"
    assert [a[1:] for a in audited(store)] == [("intake.file_submitted", result.file_id, "processed"),
                                               ("intake.file_submitted", result.file_id, "duplicate")]  # fmt: skip


async def test_a_file_still_running_is_202_with_where_to_read_it(
    api: tuple[httpx.AsyncClient, Settings, Store], submitted: list[dict[str, Any]]
) -> None:
    client, settings, store = api
    headers = bearer(settings) | {"X-File-Name": "slow.csv", "Content-Type": "text/csv"}
    response = await client.post(
        "/v1/intake/files?wait_seconds=0.5", content=b"vendor_id,legal_name\n", headers=headers
    )
    file_id = hashlib.sha256(b"vendor_id,legal_name\n").hexdigest()
    assert response.status_code == 202 and response.headers["Location"] == f"/v1/intake/files/{file_id}"
    assert response.json()["workflow_id"] == f"intake-{file_id[:24]}" and submitted[0]["wait"] == 0.5
    pending = await client.get(f"/v1/intake/files/{file_id}", headers=bearer(settings))
    assert pending.status_code == 202 and pending.json()["status"] == "processing"
    store.intake.finish_file(IntakeResult(file_id=file_id, name="slow.csv", kind=FileKind.CSV))
    done = await client.get(f"/v1/intake/files/{file_id}", headers=bearer(settings))
    assert done.status_code == 200 and done.json()["kind"] == "csv"
    problem_of(await client.get(f"/v1/intake/files/{'0' * 64}", headers=bearer(settings)), 404)
    problem_of(await client.get("/v1/intake/files/not-a-hash", headers=bearer(settings)), 422)


async def test_file_size_name_and_scope_are_checked_before_anything_is_taken(
    api: tuple[httpx.AsyncClient, Settings, Store], submitted: list[dict[str, Any]]
) -> None:
    client, settings, _ = api
    named = bearer(settings) | {"X-File-Name": "big.edi", "Content-Type": "application/octet-stream"}
    larger_than_json = X12 * (300 * 1024 // len(X12))
    assert (await client.post("/v1/intake/files", content=larger_than_json, headers=named)).status_code == 200
    too_large = await client.post("/v1/intake/files", content=b"x" * (INTAKE_LIMIT + 1), headers=named)
    assert str(INTAKE_LIMIT) in problem_of(too_large, 413)["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(INTAKE_LIMIT // 65536 + 1):
            yield b"x" * 65536

    problem_of(await client.post("/v1/intake/files", content=chunks(), headers=named), 413)
    problem_of(await client.post("/v1/intake/files", content=b"", headers=named), 422)
    for name in ("../etc/passwd", " padded.edi", "dir\\file.edi"):
        refused = await client.post("/v1/intake/files", content=X12, headers=named | {"X-File-Name": name})
        assert problem_of(refused, 422)["errors"][0]["field"] == "header.X-File-Name"
    missing = await client.post("/v1/intake/files", content=X12, headers=bearer(settings))
    assert problem_of(missing, 422)["errors"][0]["field"] == "header.X-File-Name"
    problem_of(await client.post("/v1/intake/files", content=X12, headers={"X-File-Name": "a.edi"}), 401)
    lacking = bearer(settings, ("procurement:write",)) | {"X-File-Name": "a.edi"}
    assert (
        problem_of(await client.post("/v1/intake/files", content=X12, headers=lacking), 403)["scope"] == "intake:write"
    )
    assert [call["name"] for call in submitted] == ["big.edi"]
    json_route = await client.post("/v1/purchase-orders", content=b"{}" * (200 * 1024), headers=bearer(settings)
                                   | {"Content-Type": "application/json"})  # fmt: skip
    problem_of(json_route, 413)  # the JSON routes keep their own limit


async def test_an_idempotency_key_replays_the_first_answer(
    api: tuple[httpx.AsyncClient, Settings, Store], submitted: list[dict[str, Any]]
) -> None:
    client, settings, _ = api
    headers = bearer(settings) | {"X-File-Name": "bad.edi", "Idempotency-Key": "file-1"}
    first = await client.post("/v1/intake/files", content=X12, headers=headers)
    again = await client.post("/v1/intake/files", content=X12, headers=headers)
    assert first.status_code == again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == again.json() and len(submitted) == 1
    problem_of(await client.post("/v1/intake/files", content=X12 + b"\n", headers=headers), 422)


# --- partners -----------------------------------------------------------------------------------


async def test_partners_are_read_by_anyone_signed_in_and_a_vendor_sees_its_own(
    api: tuple[httpx.AsyncClient, Settings, Store],
) -> None:
    client, settings, _ = api
    problem_of(await client.get("/v1/partners"), 401)
    listed = await client.get("/v1/partners", headers=bearer(settings, ("procurement:read",)))
    assert [p["partner_id"] for p in listed.json()["items"]] == ["CASCADIAPHARM"]
    shown = await client.get("/v1/partners/CASCADIAPHARM", headers=bearer(settings, ()))
    assert shown.status_code == 200 and shown.json() == example_json("partners/cascadiapharm.json")

    cascadia = bearer(settings, ("intake:write",), suppliers=["SUP-0003"])
    lakeshore = bearer(settings, ("intake:write",), suppliers=["SUP-0001"])
    assert (await client.get("/v1/partners/CASCADIAPHARM", headers=cascadia)).status_code == 200
    assert (await client.get("/v1/partners", headers=lakeshore)).json()["items"] == []
    problem_of(await client.get("/v1/partners/CASCADIAPHARM", headers=lakeshore), 404)
    problem_of(await client.get("/v1/partners/NOPE", headers=bearer(settings)), 404)
    problem_of(await client.get("/v1/partners/not%20an%20id", headers=bearer(settings)), 422)


async def test_a_partner_is_added_replaced_and_refused_with_the_field_named(
    api: tuple[httpx.AsyncClient, Settings, Store],
) -> None:
    client, settings, store = api
    body = example_json("partners/lakeshoremed.json")
    added = await client.put("/v1/partners/LAKESHOREMED", json=body, headers=bearer(settings))
    assert added.status_code == 201 and added.json() == body
    renamed = {**body, "name": "Lakeshore"}
    replaced = await client.put("/v1/partners/LAKESHOREMED", json=renamed, headers=bearer(settings))
    assert replaced.status_code == 200 and store.intake.get_partner("LAKESHOREMED") == Partner(**renamed)

    other = await client.put("/v1/partners/OTHER", json={**body, "partner_id": "OTHER"}, headers=bearer(settings))
    assert problem_of(other, 409)["field"] == "isa_id"
    mismatch = await client.put("/v1/partners/OTHER", json=body, headers=bearer(settings))
    assert problem_of(mismatch, 422)["errors"] == [
        {"field": "body.partner_id", "reason": "must be the path's partner id OTHER"}
    ]
    invalid = await client.put("/v1/partners/LAKESHOREMED", json={**body, "functional_ack": "998"},
                               headers=bearer(settings))  # fmt: skip
    assert [e["field"] for e in problem_of(invalid, 422)["errors"]] == ["body.functional_ack"]
    no_bool = {**body, "edi_only": 0}
    not_a_boolean = await client.put("/v1/partners/LAKESHOREMED", json=no_bool, headers=bearer(settings))
    assert [e["field"] for e in problem_of(not_a_boolean, 422)["errors"]] == ["body.edi_only"]
    problem_of(await client.put("/v1/partners/LAKESHOREMED", json=body, headers=bearer(settings, ("audit:read",))), 403)
    vendor = bearer(settings, ("intake:write",), suppliers=["SUP-0001"])
    problem_of(await client.put("/v1/partners/LAKESHOREMED", json=body, headers=vendor), 403)
    assert audited(store) == [("ana", "trading_partner.added", "LAKESHOREMED", None),
                              ("ana", "trading_partner.replaced", "LAKESHOREMED", None)]  # fmt: skip


# --- dead letters -------------------------------------------------------------------------------


async def test_dead_letters_need_intake_write_and_are_paged_by_status(
    api: tuple[httpx.AsyncClient, Settings, Store],
) -> None:
    client, settings, store = api
    first, second = add_letter(store), add_letter(store, "ST 0002 (segment 14)")
    store.intake.resolve_dead_letter(second.id or 0, DeadLetterStatus.DISCARDED, "bo", "sent twice")
    problem_of(await client.get("/v1/dead-letters"), 401)
    assert problem_of(await client.get("/v1/dead-letters", headers=bearer(settings, ("audit:read",))),
                      403)["scope"] == "intake:write"  # fmt: skip
    vendor = bearer(settings, ("intake:write",), suppliers=["SUP-0003"])
    problem_of(await client.get("/v1/dead-letters", headers=vendor), 403)
    problem_of(await client.get(f"/v1/dead-letters/{first.id}", headers=vendor), 403)

    page = (await client.get("/v1/dead-letters", headers=bearer(settings))).json()
    assert [d["id"] for d in page["items"]] == [first.id, second.id] and (page["limit"], page["offset"]) == (100, 0)
    opened = (await client.get("/v1/dead-letters?status=open", headers=bearer(settings))).json()["items"]
    assert [d["id"] for d in opened] == [first.id]
    paged = (await client.get("/v1/dead-letters?limit=1&offset=1", headers=bearer(settings))).json()["items"]
    assert [d["id"] for d in paged] == [second.id]
    shown = await client.get(f"/v1/dead-letters/{first.id}", headers=bearer(settings))
    assert shown.json()["raw"] == "ST*810*0001~SE*2*0001~" and shown.json()["reason"] == "unknown PO PO-2026-000460"
    problem_of(await client.get("/v1/dead-letters/999", headers=bearer(settings)), 404)
    for bad in ("/v1/dead-letters/0", "/v1/dead-letters/x", "/v1/dead-letters?status=gone", "/v1/dead-letters?limit=0",
                f"/v1/dead-letters/{2**63}"):  # fmt: skip
        problem_of(await client.get(bad, headers=bearer(settings)), 422)


async def test_a_dead_letter_is_discarded_once_with_a_reason_and_audited(
    api: tuple[httpx.AsyncClient, Settings, Store],
) -> None:
    client, settings, store = api
    letter = add_letter(store)
    path = f"/v1/dead-letters/{letter.id}/discard"
    problem_of(await client.post(path, json={"reason": "x"}, headers=bearer(settings)), 422)
    done = await client.post(path, json={"reason": "sent twice by the partner"}, headers=bearer(settings))
    assert done.status_code == 200 and (done.json()["status"], done.json()["resolved_by"]) == ("discarded", "ana")
    assert (
        "by ana"
        in problem_of(await client.post(path, json={"reason": "again"}, headers=bearer(settings)), 409)["detail"]
    )
    problem_of(
        await client.post("/v1/dead-letters/999/discard", json={"reason": "gone"}, headers=bearer(settings)), 404
    )
    assert audited(store) == [("ana", "intake.dead_letter_discarded", str(letter.id), "discarded")]


async def test_a_replay_answers_what_became_of_the_record_or_202_while_it_runs(
    api: tuple[httpx.AsyncClient, Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings, store = api
    behaviour: dict[str, Any] = {}

    async def replay(client: Any, settings: Any, intake: Any, letter_id: int, by: str, *, wait: float) -> ReplayResult:
        if "raise" in behaviour:
            raise behaviour["raise"]
        record = IntakeRecord(position="ST 0001", kind="x12:810", outcome=RecordOutcome.STARTED,
                              workflow_id="invoice-SUP-0003-CPD-30460")  # fmt: skip
        intake.resolve_dead_letter(letter_id, DeadLetterStatus.REPLAYED, by, f"started: {record.workflow_id}")
        return ReplayResult(dead_letter_id=letter_id, record=record, replayed=True)

    monkeypatch.setattr(intake_operations, "replay_dead_letter", replay)
    first, second = add_letter(store), add_letter(store, "b")
    done = await client.post(f"/v1/dead-letters/{first.id}/replay", headers=bearer(settings))
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["status"], answer["replayed"], answer["workflow_id"]) == ("done", True, f"intake-replay-{first.id}")
    assert answer["dead_letter"]["status"] == "replayed" and answer["record"]["outcome"] == "started"
    problem_of(await client.post(f"/v1/dead-letters/{first.id}/replay", headers=bearer(settings)), 409)
    problem_of(await client.post("/v1/dead-letters/999/replay", headers=bearer(settings)), 404)

    behaviour["raise"] = StillProcessing(f"intake-replay-{second.id}")
    running = await client.post(f"/v1/dead-letters/{second.id}/replay", headers=bearer(settings))
    assert running.status_code == 202 and running.headers["Location"] == f"/v1/dead-letters/{second.id}"
    assert running.json()["status"] == "running" and running.json()["dead_letter"]["status"] == "open"
    behaviour["raise"] = NotReplayable(f"dead letter {second.id} was replayed already")
    problem_of(await client.post(f"/v1/dead-letters/{second.id}/replay", headers=bearer(settings)), 409)
    assert [a[1:] for a in audited(store)] == [
        ("intake.dead_letter_replayed", str(first.id), "replayed"),
        ("intake.dead_letter_replayed", str(second.id), "running"),
    ]


async def test_the_openapi_document_describes_the_routes_and_the_scope(
    api: tuple[httpx.AsyncClient, Settings, Store],
) -> None:
    client, _, _ = api
    document = (await client.get("/openapi.json")).json()
    assert "`intake:write`" in document["info"]["description"]
    post = document["paths"]["/v1/intake/files"]["post"]
    assert set(post["requestBody"]["content"]) >= {"application/octet-stream", "application/edi-x12", "text/csv"}
    assert {"200", "202", "401", "403", "413", "422"} <= set(post["responses"])
    assert {"get", "put"} <= set(document["paths"]["/v1/partners/{partner_id}"])
    assert "404" in document["paths"]["/v1/dead-letters/{letter_id}"]["get"]["responses"]
    assert "409" in document["paths"]["/v1/dead-letters/{letter_id}/replay"]["post"]["responses"]
