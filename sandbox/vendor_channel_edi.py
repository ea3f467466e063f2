"""Vendor channel, EDI endpoint (`/vendor-channel/edi`, mounted by sandbox/vendor_channel.py):
trading partners that trade by X12 (seed: CASCADIAPHARM = SUP-0003) get our documents here
instead of JSON notifications, and answer as a partner's EDI software would.

- `POST /vendor-channel/edi`: the raw interchange (`application/edi-x12` or `text/plain`, UTF-8)
  with header `X-Partner-Id`. Stored as a `to_partner` message: `kind` is ST01 of its first
  transaction set (`TA1` for a bare TA1), `kinds` every distinct ST01, `control_number` ISA13.
  Each functional group that is not itself an acknowledgement (an 850's `PO` group) is answered
  at once with a 997 accepting it, or rejecting it when the reader flagged something (an
  interchange broken as a whole gets a TA1 refusing it instead): stored as a `from_partner`
  message and returned as `acknowledgement`. The 997/999/TA1 we send are only stored
  (acknowledgements are never acknowledged): the answer is `{"message_id"}`.
- The same interchange control number from the same partner again: the same text gets the first
  answer and nothing is stored twice (a retry under a new Idempotency-Key); other text is refused
  with 409 `duplicate_control_number`, as a partner refuses a reused ISA13. A retry under the
  same key is replayed by the idempotency middleware.
- A partner configured to (`PUT /vendor-channel/edi/admin/partners/{partner_id}`) drops an 855
  accepting each accepted 850 into its `inbox_dir` as `855-<po>-<n>.edi` (n: the first number
  free there) after `send_855_after_seconds`: the file is written under a hidden name and renamed,
  so an inbox poller never reads half of one; it is also stored as a `from_partner` message.
  Default: no 855 (CASCADIAPHARM's answers are files the tests and the demo drop themselves).
- `GET /vendor-channel/edi/messages` (newest first, filters `partner_id`, `direction`, `kind`
  matching any of a message's kinds; without the text) and `GET .../messages/{message_id}`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from domain.x12.acks import functional_ack, ta1
from domain.x12.model import Interchange, Level
from domain.x12.reader import read_interchanges
from domain.x12.writer import ControlNumbers
from sandbox.db import DbSession, Documents, SandboxDatabase, utc_now
from sandbox.delayed_calls import DelayedCalls
from sandbox.edi_partner_documents import acceptance_855, accepted_purchase_orders, po_number_of
from sandbox.errors import RequestDisposition, SandboxError
from sandbox.paging import Paging

logger = logging.getLogger("sandbox.vendor_channel_edi")

NAME = "vendor-channel"  # the vendor channel's documents: this endpoint is part of that system
MESSAGE = "edi_message"
PARTNER = "edi_partner"
TO_PARTNER, FROM_PARTNER = "to_partner", "from_partner"
Direction = Literal["to_partner", "from_partner"]
ACKNOWLEDGEMENT_GROUP = "FA"
INVALID_CONTROL_STRUCTURE = "022"  # TA1 note code when the reader's own code is not a TA1 one
EDI_MEDIA_TYPES = frozenset({"application/edi-x12", "text/plain", "application/octet-stream"})
UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")

router = APIRouter(prefix="/edi", tags=[NAME])


class PartnerSettings(BaseModel):
    """How a partner answers beyond its immediate 997 (none of this by default)."""

    model_config = ConfigDict(extra="forbid")
    send_855_after_seconds: float | None = Field(default=None, ge=0, le=3600)
    inbox_dir: str | None = Field(default=None, description="absolute directory the 855 files are dropped into")

    @field_validator("inbox_dir")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_absolute():
            raise ValueError("must be an absolute path (the sandbox's working directory is nobody's inbox)")
        return value

    @model_validator(mode="after")
    def _inbox_for_855s(self) -> PartnerSettings:
        if self.send_855_after_seconds is not None and self.inbox_dir is None:
            raise ValueError("inbox_dir: required when send_855_after_seconds is set (where the 855s are dropped)")
        return self

    @property
    def sends_855(self) -> bool:
        return self.send_855_after_seconds is not None and self.inbox_dir is not None


def _docs(session: Session) -> Documents:
    return Documents(session, NAME)


def partner_settings(docs: Documents, partner_id: str) -> PartnerSettings:
    found = docs.get(PARTNER, partner_id) or {}
    return PartnerSettings.model_validate({k: v for k, v in found.items() if k != "partner_id"})


def partner_acknowledgements(received: Interchange, docs: Documents, partner_id: str) -> list[tuple[str, int, str]]:
    """What the partner answers at once to `received`, as (kind, its ISA13, text): a TA1 refusing
    an interchange the reader found broken as a whole, else a 997 (our writer, domain/x12/acks.py)
    per functional group that is not itself an acknowledgement, accepting or rejecting it."""
    now = datetime.now(UTC)
    broken = [error for error in received.errors if error.level is Level.INTERCHANGE]
    if broken:
        if not received.control_number.isdigit():
            return []  # no ISA13 to quote: nothing a TA1 can answer
        code = next((e.code for e in broken if len(e.code) == 3 and e.code.isdigit()), INVALID_CONTROL_STRUCTURE)
        number = _next_control_number(docs, partner_id)
        return [("TA1", number, ta1(received, code, control=number, now=now))]
    answers = []
    for group in received.groups:
        if group.functional_id != ACKNOWLEDGEMENT_GROUP:
            number = _next_control_number(docs, partner_id)
            answers.append(
                ("997", number, functional_ack(received, group, control=ControlNumbers(number, number), now=now))
            )
    return answers


def _next_control_number(docs: Documents, partner_id: str) -> int:
    """The partner's own interchange control numbers, one sequence per partner."""
    prefix = f"edi-icn:{partner_id}:"
    return int(docs.next_id(prefix, 1).removeprefix(prefix))


def _kinds(interchanges: list[Interchange]) -> list[str]:
    """Every distinct ST01, in order; `TA1` for interchanges that only carry TA1s."""
    kinds: list[str] = []
    for code in (ts.code for i in interchanges for g in i.groups for ts in g.transactions):
        if code and code not in kinds:
            kinds.append(code)
    if not kinds and any(interchange.ta1 for interchange in interchanges):
        kinds.append("TA1")
    return kinds


async def _edi_text(request: Request) -> str:
    """The body as text; refusals here are noted as made before the route ran (the idempotency
    middleware then keeps no answer under the key, so a corrected retry runs)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type and media_type not in EDI_MEDIA_TYPES:
            allowed = ", ".join(sorted(EDI_MEDIA_TYPES))
            raise SandboxError(415, "unsupported_media_type", f"header.Content-Type: must be one of {allowed}")
        body = await request.body()
        if not body.strip():
            raise SandboxError(400, "bad_edi", "body: empty; an X12 interchange is expected")
        try:
            return body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SandboxError(400, "bad_edi", f"body: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except SandboxError:
        RequestDisposition.note_refused_before_route(request.scope)
        raise


EdiText = Annotated[str, Depends(_edi_text)]
PartnerId = Annotated[str, Header(alias="X-Partner-Id", min_length=1, max_length=60)]


@router.post(
    "",
    status_code=201,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/edi-x12": {"schema": {"type": "string"}}}}
    },
)
def receive_edi(session: DbSession, request: Request, text: EdiText, partner_id: PartnerId) -> dict[str, Any]:
    """Take an interchange for `partner_id`; the answer carries the partner's 997 when it sends one."""
    interchanges = [i for i in read_interchanges(text.encode("utf-8")) if i.enveloped]
    if not interchanges:
        raise SandboxError(400, "bad_edi", "body: not an X12 interchange (no ISA segment)")
    docs = _docs(session)
    control_number = interchanges[0].control_number
    earlier = _earlier_message(docs, partner_id, control_number)
    if earlier is not None:
        if earlier["text"] != text:
            raise SandboxError(
                409,
                "duplicate_control_number",
                f"ISA13: interchange control number {control_number} was already received for {partner_id} "
                "with other content",
            )
        return _receipt(docs, earlier)
    message = _new_message(docs, partner_id, TO_PARTNER, _kinds(interchanges), control_number, text)
    message["po_numbers"] = [po_number_of(ts) for _, _, ts in accepted_purchase_orders(interchanges)]
    docs.put(MESSAGE, message["message_id"], message)  # before its answers: listings are newest first
    for interchange in interchanges:
        for kind, number, answer in partner_acknowledgements(interchange, docs, partner_id):
            reply = _new_message(docs, partner_id, FROM_PARTNER, [kind], f"{number:09d}", answer)
            reply["in_reply_to"] = message["message_id"]
            docs.put(MESSAGE, reply["message_id"], reply)
            message["acknowledgement_ids"].append(reply["message_id"])
    settings = partner_settings(docs, partner_id)
    if settings.sends_855 and message["po_numbers"]:
        message["answer_855"] = {"status": "pending", "inbox_dir": settings.inbox_dir, "files": []}
    docs.put(MESSAGE, message["message_id"], message)
    session.commit()  # the 855 job reads it from another session
    if message.get("answer_855"):
        scheduler: PartnerAnswers = request.app.state.edi_partner_answers
        scheduler.schedule(message["message_id"], settings.send_855_after_seconds or 0.0)
    return _receipt(docs, message)


def _earlier_message(docs: Documents, partner_id: str, control_number: str) -> dict[str, Any] | None:
    return next(
        (
            m
            for m in docs.where_field_in(MESSAGE, "control_number", {control_number})
            if m["partner_id"] == partner_id and m["direction"] == TO_PARTNER
        ),
        None,
    )


def _receipt(docs: Documents, message: dict[str, Any]) -> dict[str, Any]:
    """`{"message_id"}`, with `acknowledgement` (the text of the partner's answers, one
    interchange each) when it answered."""
    answer: dict[str, Any] = {"message_id": message["message_id"]}
    if message["acknowledgement_ids"]:
        texts = [docs.require(MESSAGE, reply_id)["text"] for reply_id in message["acknowledgement_ids"]]
        answer["acknowledgement"] = "".join(texts)
    return answer


def _new_message(
    docs: Documents, partner_id: str, direction: str, kinds: list[str], control_number: str, text: str
) -> dict[str, Any]:
    return {
        "message_id": docs.next_id("EDI-", 6),
        "partner_id": partner_id,
        "direction": direction,
        "kind": kinds[0] if kinds else "unknown",
        "kinds": kinds,
        "control_number": control_number,
        "received_at": utc_now(),
        "in_reply_to": None,
        "acknowledgement_ids": [],
        "text": text,
    }


@router.get("/messages")
def list_messages(
    session: DbSession,
    paging: Paging,
    partner_id: str | None = None,
    direction: Annotated[Direction | None, Query()] = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """Newest first, without the text (read one message for it)."""
    messages = [
        {k: v for k, v in m.items() if k != "text"}
        for m in reversed(_docs(session).all(MESSAGE))
        if (partner_id is None or m["partner_id"] == partner_id)
        and (direction is None or m["direction"] == direction)
        and (kind is None or kind in m["kinds"])
    ]
    return paging.page(messages)


@router.get("/messages/{message_id}")
def get_message(session: DbSession, message_id: str) -> dict[str, Any]:
    return _docs(session).require(MESSAGE, message_id, label="EDI message")


@router.get("/admin/partners/{partner_id}")
def get_partner(session: DbSession, partner_id: str) -> dict[str, Any]:
    return {"partner_id": partner_id, **partner_settings(_docs(session), partner_id).model_dump()}


@router.put("/admin/partners/{partner_id}")
def set_partner(session: DbSession, partner_id: str, settings: PartnerSettings) -> dict[str, Any]:
    """`send_855_after_seconds` needs `inbox_dir`; null it to stop the 855s."""
    body = {"partner_id": partner_id, **settings.model_dump()}
    _docs(session).put(PARTNER, partner_id, body)
    return body


class PartnerAnswers:
    """Drops the delayed 855s of partners configured to send them (see the module docstring)."""

    def __init__(self, database: SandboxDatabase) -> None:
        self.database = database
        self.calls = DelayedCalls("edi partner answers")

    async def start(self) -> None:
        """Re-arms, at once, the 855s still pending when the sandbox last stopped."""
        await self.calls.start()
        with self.database.sessionmaker() as session:
            pending = [
                m["message_id"]
                for m in _docs(session).all(MESSAGE)
                if (m.get("answer_855") or {}).get("status") == "pending"
            ]
        for message_id in pending:
            self.schedule(message_id, 0.0)

    async def stop(self) -> None:
        await self.calls.stop()

    def schedule(self, message_id: str, delay: float) -> None:
        self.calls.call_later(delay, lambda: self.drop_855s(message_id))

    def drop_855s(self, message_id: str) -> list[Path]:
        """Write the 855s of one message into its partner's inbox (once: a message no longer
        pending is left alone)."""
        with self.database.sessionmaker() as session:
            docs = _docs(session)
            message = docs.get(MESSAGE, message_id)
            answer = (message or {}).get("answer_855") or {}
            if message is None or answer.get("status") != "pending":
                return []
            written: list[Path] = []
            try:
                written = self._write_files(docs, message, Path(answer["inbox_dir"]))
                answer = {**answer, "status": "sent", "files": [str(path) for path in written]}
            except OSError as error:
                logger.warning("855 for %s not written: %s", message_id, error)
                answer = {**answer, "status": "failed", "reason": f"inbox_dir: {type(error).__name__}: {error}"}
            docs.put(MESSAGE, message_id, {**message, "answer_855": answer})
            session.commit()
            return written

    def _write_files(self, docs: Documents, message: dict[str, Any], inbox: Path) -> list[Path]:
        inbox.mkdir(parents=True, exist_ok=True)
        partner_id = message["partner_id"]
        written = []
        for interchange, group, order in accepted_purchase_orders(read_interchanges(message["text"].encode("utf-8"))):
            number = _next_control_number(docs, partner_id)
            answer = acceptance_855(interchange, group, order, control_number=number, now=datetime.now(UTC))
            path = _free_name(inbox, answer.po_number)
            hidden = path.with_name(f".{path.name}.part")
            hidden.write_text(answer.text, encoding="utf-8")
            hidden.replace(path)
            reply = _new_message(docs, partner_id, FROM_PARTNER, ["855"], f"{number:09d}", answer.text)
            reply.update(in_reply_to=message["message_id"], po_numbers=[answer.po_number], file=str(path))
            docs.put(MESSAGE, reply["message_id"], reply)
            written.append(path)
        return written


def _free_name(inbox: Path, po_number: str) -> Path:
    stem = UNSAFE_IN_FILE_NAME.sub("_", po_number) or "unnumbered"
    n = 1
    while (inbox / f"855-{stem}-{n}.edi").exists():
        n += 1
    return inbox / f"855-{stem}-{n}.edi"
