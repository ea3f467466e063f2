"""Intake activities: one file through the pipeline (X12 in activities/intake_x12.py, CSV here),
one dead letter again, and the watched inbox.

Every record becomes the governed call a JSON request makes, through `IntakeDispatchPort`; one
that cannot is a dead letter with its original text, partner, reason and position, and never
stops the others. A retried activity does no harm: starts and signals are idempotent by business
key and event id, dead letters by file and position, acknowledgements by file and group.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

from temporalio import activity

from activities.errors import translate_adapter_errors
from activities.intake_x12 import X12Intake
from adapters.contracts import ContractsPort
from adapters.intake_dispatch import IntakeDispatchPort
from adapters.intake_store import IntakeStorePort
from adapters.vendor_channel import VendorChannelPort
from domain.compliance import ReviewTaskInput
from domain.decisions import PURCHASING_TEAM, DecisionKind
from domain.file_maps import MappedRow, map_rows, recognise
from domain.intake import (
    DeadLetterStatus,
    EdiIdentity,
    FileKind,
    InboxFile,
    InboxInput,
    InboxResult,
    IntakeDeadLetter,
    IntakeFileInput,
    IntakeRecord,
    IntakeResult,
    IntakeSource,
    RecordOutcome,
    ReplayInput,
    ReplayResult,
)
from domain.supplier import SupplierOnboardingRequest

HEARTBEAT_EVERY = 25  # records
CSV_PREFIX = "csv:"


def sniff(data: bytes) -> FileKind:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"ISA"):
        return FileKind.X12
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return FileKind.UNKNOWN
    return FileKind.CSV if recognise(text) is not None else FileKind.UNKNOWN


class IntakeActivities:
    def __init__(
        self,
        *,
        store: IntakeStorePort,
        dispatch: IntakeDispatchPort,
        contracts: ContractsPort,
        vendor_channel: VendorChannelPort,
        ours: EdiIdentity,
    ) -> None:
        self._store = store
        self._dispatch = dispatch
        self._x12 = X12Intake(store=store, dispatch=dispatch, contracts=contracts, vendor_channel=vendor_channel,
                              ours=ours)  # fmt: skip

    @activity.defn(name="process_intake_file")
    @translate_adapter_errors
    async def process_file(self, params: IntakeFileInput) -> IntakeResult:
        data = await asyncio.to_thread(self._store.file_bytes, params.file_id)
        kind = sniff(data)
        result = IntakeResult(file_id=params.file_id, name=params.name, kind=kind)
        if kind is FileKind.X12:
            await self._x12.process(params, data, result)
        elif kind is FileKind.CSV:
            await self._csv(params, data.decode("utf-8-sig"), result)
        else:
            result.refused = ("neither an X12 interchange (no ISA segment) nor a CSV file whose header a column map "
                              "knows (domain/file_maps.py)")  # fmt: skip
        await asyncio.to_thread(self._store.finish_file, result)
        return result

    async def _csv(self, params: IntakeFileInput, text: str, result: IntakeResult) -> None:
        file_map = recognise(text)
        assert file_map is not None
        for count, row in enumerate(map_rows(text, file_map), start=1):
            result.records.append(await self._csv_row(params, file_map.kind, row))
            if count % HEARTBEAT_EVERY == 0:
                activity.heartbeat(count)

    async def _csv_row(
        self, params: IntakeFileInput, kind: str, row: MappedRow, replay_of: int | None = None
    ) -> IntakeRecord:
        position = f"line {row.line}" + (f" (replay of dead letter {replay_of})" if replay_of else "")
        if row.document is None:
            reason = "; ".join(f"{field}: {why}" for field, why in row.errors)
            errors = [{"field": field, "reason": why} for field, why in row.errors]
            letter = IntakeDeadLetter(file_id=params.file_id, file_name=params.name, kind=f"{CSV_PREFIX}{kind}",
                                      position=position, key=row.key, reason=f"{position}: {reason}", raw=row.raw,
                                      details={"errors": errors})  # fmt: skip
            return await self._x12.dead_letter(letter)
        assert isinstance(row.document, SupplierOnboardingRequest)
        workflow_id, new = await self._dispatch.start_onboarding(row.document)
        outcome = RecordOutcome.STARTED if new else RecordOutcome.DUPLICATE
        return IntakeRecord(position=position, kind=f"{CSV_PREFIX}{kind}", key=row.key, outcome=outcome,
                            workflow_id=workflow_id)  # fmt: skip

    @activity.defn(name="replay_dead_letter")
    @translate_adapter_errors
    async def replay_dead_letter(self, params: ReplayInput) -> ReplayResult:
        """Run the record again; it is marked replayed (with what became of it) whatever the
        outcome, and a failure again is a new dead letter with the new reason."""
        letter = await asyncio.to_thread(self._store.get_dead_letter, params.dead_letter_id)
        if letter is None:
            raise ValueError(f"dead letter {params.dead_letter_id} does not exist")
        if letter.status is not DeadLetterStatus.OPEN:
            raise ValueError(f"dead letter {letter.id} is {letter.status.value}: it is not run again")
        replay_params = IntakeFileInput(file_id=letter.file_id, name=letter.file_name, source=IntakeSource.CLI,
                                        submitted_by=params.replayed_by)  # fmt: skip
        if letter.kind.startswith(CSV_PREFIX):
            file_map = recognise(letter.raw)
            rows = list(map_rows(letter.raw, file_map)) if file_map else []
            if not rows:
                raise ValueError(f"dead letter {letter.id} holds no row a column map knows")
            original = MappedRow(line=int(letter.position.split()[1]), key=rows[0].key, raw=rows[0].raw,
                                 document=rows[0].document, errors=rows[0].errors)  # fmt: skip
            record = await self._csv_row(replay_params, letter.kind.removeprefix(CSV_PREFIX), original, letter.id)
        else:
            record = await self._x12.replay(replay_params, letter)
        replayed = record.outcome is not RecordOutcome.DEAD_LETTER
        resolution = record.workflow_id or record.reason or record.outcome.value
        await asyncio.to_thread(self._store.resolve_dead_letter, letter.id or 0, DeadLetterStatus.REPLAYED,
                                params.replayed_by, f"{record.outcome.value}: {resolution}")  # fmt: skip
        return ReplayResult(dead_letter_id=params.dead_letter_id, record=record, replayed=replayed)

    @activity.defn(name="scan_intake_inbox")
    @translate_adapter_errors
    async def scan_inbox(self, params: InboxInput) -> InboxResult:
        """Each file in the inbox (oldest first): kept in the store, through its intake, then
        moved to archive/ (taken, even with dead letters or as a duplicate) or rejected/ (refused
        as a whole, with `<name>.reason.json`)."""
        inbox = Path(params.inbox_dir)
        result = InboxResult()
        files = await asyncio.to_thread(_inbox_files, inbox)
        for path in files:
            activity.heartbeat(path.name)
            result.files.append(await self._take(inbox, path))
        result.overdue_acknowledgements = await self._overdue_acknowledgements(params.ack_sla_minutes)
        return result

    async def _overdue_acknowledgements(self, sla_minutes: int) -> list[str]:
        """Each 850 we sent that no 997/999 answered within the SLA: a task for purchasing (one per
        850: the task id is the partner and control number, so later scans join it)."""
        sent = await asyncio.to_thread(self._store.edi_messages, direction="out", kind="850", limit=10_000)
        answered = await asyncio.to_thread(self._store.edi_messages, direction="in", limit=100_000)
        acknowledged = {(m.partner_id, _number(m.control_number)) for m in answered if m.kind in ("997", "999")}
        due = datetime.now(UTC) - timedelta(minutes=sla_minutes)
        opened = []
        for message in sent:
            created = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=UTC)
            if (message.partner_id, _number(message.control_number)) in acknowledged or created > due:
                continue
            summary = (f"no 997 from {message.partner_id} for the 850 of PO {message.related} (interchange "
                       f"{message.control_number}) sent {created:%Y-%m-%d %H:%M} UTC")  # fmt: skip
            task = ReviewTaskInput(kind=DecisionKind.FUNCTIONAL_ACK_OVERDUE.value, team=PURCHASING_TEAM,
                                   record=message.related or message.control_number, summary=summary,
                                   evidence={"partner_id": message.partner_id, "control_number": message.control_number,
                                             "po_number": message.related, "sent_at": created.isoformat()})  # fmt: skip
            task_id = f"edi-997-overdue-{message.partner_id}-{message.control_number}"
            opened.append(await self._dispatch.open_task(task_id, task))
        return opened

    async def _take(self, inbox: Path, path: Path) -> InboxFile:
        data = await asyncio.to_thread(path.read_bytes)
        file_id = sha256(data).hexdigest()
        await asyncio.to_thread(self._store.save_file, file_id, path.name, IntakeSource.INBOX, data)
        taken = await self._dispatch.process_file(IntakeFileInput(file_id=file_id, name=path.name,
                                                                  source=IntakeSource.INBOX))  # fmt: skip
        refused = taken.refused is not None
        folder = inbox.parent / ("rejected" if refused else "archive")
        moved = await asyncio.to_thread(_move, path, folder, taken if refused else None)
        return InboxFile(name=path.name, moved_to=str(moved), result=taken)


def _number(control: str) -> str:
    """A control number compared as a number (`000004101` is `4101`), as partners pad them."""
    return str(int(control)) if control.isdigit() else control


def _inbox_files(inbox: Path) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    found = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _move(path: Path, folder: Path, refused: IntakeResult | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():  # the same name taken before: keep both
        target = folder / f"{path.stem}.{int(path.stat().st_mtime * 1000)}{path.suffix}"
    shutil.move(str(path), target)
    if refused is not None:
        reason = {"file": path.name, "file_id": refused.file_id, "reason": refused.refused}
        target.with_name(f"{target.name}.reason.json").write_text(json.dumps(reason, indent=2) + "\n")
    return target
