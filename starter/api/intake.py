"""File intake over HTTP: files in, the trading partner registry, and the dead letters of records
that could not become a workflow call.

- `POST /v1/intake/files` takes the file as the raw body (any media type: X12, CSV), its name in
  `X-File-Name`, up to `SUPPLYBRIDGE_INTAKE_MAX_FILE_BYTES` (20 MiB; the JSON routes keep
  `SUPPLYBRIDGE_MAX_REQUEST_BYTES`). It answers 200 with the file's IntakeResult (its records, dead
  letters, a duplicate, a refusal), or 202 with a `Location` to read it from once processed when
  it is still running after `wait_seconds`. The same bytes again are answered as a duplicate.
- `GET /v1/partners[/{id}]`: any authenticated caller (a partner's ids are on every file it
  sends), except that a principal bound to suppliers (a vendor partner) sees only its suppliers'
  partners (others are 404). `PUT /v1/partners/{id}` adds or replaces one (201 / 200).
- Dead letters hold partners' raw data: every dead-letter route needs `intake:write`, and is
  refused (403) to a principal bound to suppliers, since the letters are every partner's.
  Replay runs the record through the pipeline again (202 while it is still running); discard
  needs a reason. Listing is oldest first, with `status`, `limit` and `offset`.

Everything that changes something is audited (actor: the principal) and honours `Idempotency-Key`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from domain.audit import AuditRecord
from domain.intake import (
    DeadLetterStatus,
    IntakeDeadLetter,
    IntakeResult,
    IntakeSource,
    Partner,
    intake_workflow_id,
    replay_workflow_id,
)
from runtime.settings import Settings
from starter.api.deps import TemporalClient
from starter.api.guards import idempotent
from starter.api.idempotency import audit_with_answer
from starter.api.intake_bodies import (
    FILE_BODY,
    DeadLetterPage,
    DiscardBody,
    FileIdPath,
    FileName,
    IntakePending,
    LetterIdPath,
    PartnerBody,
    PartnerIdPath,
    PartnerList,
    ReplayAnswer,
)
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import CurrentPrincipal, Principal, require
from starter.operations import intake as intake_operations
from store import Store
from store.intake import sha256_hex

INTAKE_SCOPE = "intake:write"
REPLAY_WAIT = 10.0  # seconds a replay request waits for the replay to finish, then 202
router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)
IntakeWriter = Annotated[Principal, require(INTAKE_SCOPE)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _audit(request: Request, principal: Principal, action: str, record: tuple[str, str], **details: Any) -> None:
    outcome = details.pop("outcome", None)
    audit_with_answer(request, AuditRecord(actor=principal.subject, action=action, record_type=record[0],
                                           record_id=record[1], outcome=str(outcome) if outcome else None,
                                           details={"via": principal.via, **details}))  # fmt: skip


def _json(model: BaseModel, status: int = 200, location: str | None = None) -> JSONResponse:
    headers = {"Location": location} if location else None
    return JSONResponse(model.model_dump(mode="json"), status_code=status, headers=headers)


def _no_vendor_partner(principal: Principal) -> None:
    if principal.suppliers:
        raise ProblemError(403, "Not for a vendor partner", "dead letters hold every partner's data; "
                           "a principal bound to suppliers may not read or change them")  # fmt: skip


def _file_location(file_id: str) -> str:
    return f"/v1/intake/files/{file_id}"


# --- files --------------------------------------------------------------------------------------
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": IntakePending, "description": "still processing; read the result at `location`"}
}


@router.post("/intake/files", tags=["intake"], response_model=IntakeResult, responses=PENDING, openapi_extra=FILE_BODY)
async def submit_intake_file(
    request: Request,
    principal: IntakeWriter,
    temporal: TemporalClient,
    file_name: FileName,
    wait_seconds: Annotated[float, Query(ge=0, le=30, description="how long to wait for the result")] = 10.0,
) -> Response:
    """Take in a file (X12 or CSV): every record becomes the same governed workflow call a JSON
    request makes, or a dead letter naming its position and reason."""
    data = await request.body()
    if not data:
        raise ProblemError(422, "Invalid request", "body: the file is empty",
                           errors=[{"field": "body", "reason": "the file is empty"}])  # fmt: skip
    file_id = sha256_hex(data)

    async def run() -> JSONResponse:
        store, settings = _store(request), _settings(request)
        try:
            result = await intake_operations.submit_file(
                temporal, settings, store.intake, file_name, data, IntakeSource.API, principal.subject,
                wait=wait_seconds,
            )  # fmt: skip
        except TimeoutError:
            _audit(request, principal, "intake.file_submitted", ("intake_file", file_id), name=file_name,
                   size=len(data), outcome="processing")  # fmt: skip
            pending = IntakePending(file_id=file_id, name=file_name, workflow_id=intake_workflow_id(file_id),
                                    location=_file_location(file_id))  # fmt: skip
            return _json(pending, 202, pending.location)
        outcome = "refused" if result.refused else "duplicate" if result.duplicate_of else "processed"
        _audit(request, principal, "intake.file_submitted", ("intake_file", file_id), name=file_name,
               size=len(data), records=len(result.records), dead_letters=result.dead_letters,
               outcome=outcome)  # fmt: skip
        return _json(result)

    return await idempotent(request, principal, run)


@router.get("/intake/files/{file_id}", tags=["intake"], response_model=IntakeResult, responses=PENDING)
async def get_intake_file(request: Request, file_id: FileIdPath, principal: IntakeWriter) -> JSONResponse:
    """What became of a file taken in (202 while it is still being processed)."""
    found = await asyncio.to_thread(_store(request).intake.get_file, file_id)
    if found is None:
        raise ProblemError(404, "Not found", f"no intake file {file_id}")
    if found.result is None:
        pending = IntakePending(file_id=file_id, name=found.name, workflow_id=intake_workflow_id(file_id),
                                location=_file_location(file_id))  # fmt: skip
        return _json(pending, 202, pending.location)
    return _json(found.result)


# --- trading partners ---------------------------------------------------------------------------
def _sees_partner(principal: Principal, partner: Partner) -> bool:
    return not principal.suppliers or principal.speaks_for_supplier(partner.supplier_id)


@router.get("/partners", tags=["trading partners"], response_model=PartnerList)
async def list_partners(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    """The trading partners, by id (a vendor partner sees its own suppliers' only)."""
    found = await asyncio.to_thread(_store(request).intake.list_partners)
    return _json(PartnerList(items=[p for p in found if _sees_partner(principal, p)]))


@router.get("/partners/{partner_id}", tags=["trading partners"], response_model=Partner)
async def get_partner(request: Request, partner_id: PartnerIdPath, principal: CurrentPrincipal) -> JSONResponse:
    """One trading partner: its ISA and GS ids, supplier, transaction sets, X12 version, 997/999."""
    found = await asyncio.to_thread(_store(request).intake.get_partner, partner_id)
    if found is None or not _sees_partner(principal, found):
        raise ProblemError(404, "Not found", f"no trading partner {partner_id}")
    return _json(found)


@router.put(
    "/partners/{partner_id}",
    tags=["trading partners"],
    response_model=Partner,
    responses={201: {"model": Partner, "description": "added"}},
)
async def put_partner(
    request: Request, partner_id: PartnerIdPath, body: PartnerBody, principal: IntakeWriter
) -> Response:
    """Add (201) or replace (200) a trading partner; the body's `partner_id` must be the path's.
    An ISA sender (qualifier and id) another partner already uses is 409."""
    if principal.suppliers:
        raise ProblemError(403, "Not for a vendor partner", "a principal bound to suppliers may not change partners")
    if body.partner_id != partner_id:
        reason = f"must be the path's partner id {partner_id}"
        raise ProblemError(422, "Invalid request", f"body.partner_id: {reason}",
                           errors=[{"field": "body.partner_id", "reason": reason}])  # fmt: skip

    async def run() -> JSONResponse:
        intake = _store(request).intake
        existed = await asyncio.to_thread(intake.get_partner, partner_id) is not None
        try:
            saved = await asyncio.to_thread(intake.put_partner, Partner.model_validate(body.model_dump()))
        except ValueError as refused:
            raise ProblemError(409, "ISA sender in use", str(refused), field="isa_id") from None
        _audit(request, principal, f"trading_partner.{'replaced' if existed else 'added'}",
               ("trading_partner", partner_id), supplier_id=saved.supplier_id,
               isa_sender=f"{saved.isa_qualifier}/{saved.isa_id}")  # fmt: skip
        return _json(saved, 200 if existed else 201)

    return await idempotent(request, principal, run)


@router.options("/partners/{partner_id}", include_in_schema=False)
async def partner_options() -> Response:
    """What a partner's path allows (the router alone would name only its first route's GET)."""
    return Response(status_code=204, headers={"Allow": "GET, OPTIONS, PUT"})


# --- dead letters -------------------------------------------------------------------------------
@router.get("/dead-letters", tags=["dead letters"], response_model=DeadLetterPage)
async def list_dead_letters(
    request: Request,
    principal: IntakeWriter,
    status: Annotated[DeadLetterStatus | None, Query(description="open, replayed or discarded")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> JSONResponse:
    """Records that could not become a workflow call, oldest first, with their original text."""
    _no_vendor_partner(principal)
    found = await asyncio.to_thread(_store(request).intake.list_dead_letters, status, limit, offset)
    return _json(DeadLetterPage(items=found, limit=limit, offset=offset))


async def _open_letter(request: Request, principal: Principal, letter_id: int) -> IntakeDeadLetter:
    """The letter, if it exists (404) and is still open (409)."""
    letter = await _letter(request, principal, letter_id)
    if letter.status is not DeadLetterStatus.OPEN:
        raise ProblemError(409, "Already resolved", f"dead letter {letter_id} was {letter.status.value} "
                           f"by {letter.resolved_by}: only an open one can be replayed or discarded")  # fmt: skip
    return letter


async def _letter(request: Request, principal: Principal, letter_id: int) -> IntakeDeadLetter:
    _no_vendor_partner(principal)
    letter = await asyncio.to_thread(_store(request).intake.get_dead_letter, letter_id)
    if letter is None:
        raise ProblemError(404, "Not found", f"no dead letter {letter_id}")
    return letter


@router.get("/dead-letters/{letter_id}", tags=["dead letters"], response_model=IntakeDeadLetter)
async def get_dead_letter(request: Request, letter_id: LetterIdPath, principal: IntakeWriter) -> JSONResponse:
    """One dead letter: its reason, position in the file, partner and original text."""
    return _json(await _letter(request, principal, letter_id))


@router.post(
    "/dead-letters/{letter_id}/replay",
    tags=["dead letters"],
    response_model=ReplayAnswer,
    responses={202: {"model": ReplayAnswer, "description": "replay still running"}},
)
async def replay_dead_letter(
    request: Request, letter_id: LetterIdPath, principal: IntakeWriter, temporal: TemporalClient
) -> Response:
    """Run an open dead letter's record through the pipeline again (once its cause is fixed: a
    partner added, a PO created); a replayed record is never processed twice."""
    _no_vendor_partner(principal)

    async def run() -> JSONResponse:
        await _open_letter(request, principal, letter_id)
        location, workflow_id = f"/v1/dead-letters/{letter_id}", replay_workflow_id(letter_id)
        try:
            done = await intake_operations.replay_dead_letter(
                temporal, _settings(request), _store(request).intake, letter_id, principal.subject, wait=REPLAY_WAIT
            )
        except TimeoutError:
            _audit(request, principal, "intake.dead_letter_replayed", ("intake_dead_letter", str(letter_id)),
                   workflow_id=workflow_id, outcome="running")  # fmt: skip
            letter = await _letter(request, principal, letter_id)
            return _json(ReplayAnswer(dead_letter=letter, workflow_id=workflow_id, status="running"), 202, location)
        except LookupError as missing:
            raise ProblemError(404, "Not found", str(missing)) from None
        except ValueError as refused:  # replayed or resolved meanwhile
            raise ProblemError(409, "Refused", str(refused)) from None
        _audit(request, principal, "intake.dead_letter_replayed", ("intake_dead_letter", str(letter_id)),
               workflow_id=workflow_id, record_outcome=done.record.outcome.value,
               outcome="replayed" if done.replayed else "failed_again")  # fmt: skip
        answer = ReplayAnswer(dead_letter=await _letter(request, principal, letter_id), workflow_id=workflow_id,
                              status="done", replayed=done.replayed, record=done.record)  # fmt: skip
        return _json(answer)

    return await idempotent(request, principal, run)


@router.post("/dead-letters/{letter_id}/discard", tags=["dead letters"], response_model=IntakeDeadLetter)
async def discard_dead_letter(
    request: Request, letter_id: LetterIdPath, body: DiscardBody, principal: IntakeWriter
) -> Response:
    """Close an open dead letter without running it, with the reason why."""
    _no_vendor_partner(principal)

    async def run() -> JSONResponse:
        await _open_letter(request, principal, letter_id)
        intake = _store(request).intake
        try:
            letter = await asyncio.to_thread(
                intake.resolve_dead_letter, letter_id, DeadLetterStatus.DISCARDED, principal.subject, body.reason
            )
        except ValueError as refused:  # resolved by someone else since the check
            raise ProblemError(409, "Already resolved", str(refused)) from None
        _audit(request, principal, "intake.dead_letter_discarded", ("intake_dead_letter", str(letter_id)),
               reason=body.reason, outcome="discarded")  # fmt: skip
        return _json(letter)

    return await idempotent(request, principal, run)
