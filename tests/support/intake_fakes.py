"""`FakeIntakeStore`: the store side of file intake in memory, behaving as store/intake.py does
(the same answers, the same errors; tests/store/test_intake_store.py runs the same checks on both).
It starts with the partners a migrated store is seeded with (`partners={}` for none)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from domain.intake import DeadLetterStatus, IntakeDeadLetter, IntakeResult, IntakeSource, Partner
from store.intake import (
    EDI_DIRECTIONS,
    RESOLUTIONS,
    SEED_PARTNERS,
    EdiMessage,
    IntakeFile,
    file_status,
    sha256_hex,
)
from store.models import utcnow


def _seeded() -> dict[str, Partner]:
    return {partner.partner_id: partner.model_copy() for partner in SEED_PARTNERS}


@dataclass
class FakeIntakeStore:
    partners: dict[str, Partner] = field(default_factory=_seeded)
    files: dict[str, IntakeFile] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    interchanges: dict[tuple[str, str], str] = field(default_factory=dict)
    dead_letters: dict[int, IntakeDeadLetter] = field(default_factory=dict)
    messages: list[EdiMessage] = field(default_factory=list)
    control_numbers: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- files ----------------------------------------------------------------------------------
    def save_file(self, file_id: str, name: str, source: IntakeSource, data: bytes) -> bool:
        if sha256_hex(data) != file_id:
            raise ValueError(f"file_id: {file_id!r} is not the sha256 of the file's bytes")
        if file_id in self.files:
            return False
        self.files[file_id] = IntakeFile(file_id=file_id, name=name[:255], source=IntakeSource(source),
                                         size=len(data), received_at=utcnow(), status="received")  # fmt: skip
        self.contents[file_id] = data
        return True

    def file_bytes(self, file_id: str) -> bytes:
        if file_id not in self.contents:
            raise LookupError(f"file_id: no intake file {file_id!r} in the store")
        return self.contents[file_id]

    def finish_file(self, result: IntakeResult) -> None:
        if result.file_id not in self.files:
            raise LookupError(f"file_id: no intake file {result.file_id!r} in the store")
        self.files[result.file_id] = self.files[result.file_id].model_copy(
            update={"status": file_status(result), "result": result.model_copy(deep=True), "finished_at": utcnow()}
        )

    def file_result(self, file_id: str) -> IntakeResult | None:
        found = self.files.get(file_id)
        return found.result.model_copy(deep=True) if found is not None and found.result is not None else None

    def get_file(self, file_id: str) -> IntakeFile | None:
        found = self.files.get(file_id)
        return found.model_copy(deep=True) if found is not None else None

    def claim_interchange(self, partner_id: str, control_number: str, file_id: str) -> str | None:
        first = self.interchanges.setdefault((partner_id, control_number), file_id)
        return None if first == file_id else first

    # --- partners -------------------------------------------------------------------------------
    def list_partners(self) -> list[Partner]:
        return [self.partners[key].model_copy() for key in sorted(self.partners)]

    def get_partner(self, partner_id: str) -> Partner | None:
        found = self.partners.get(partner_id)
        return found.model_copy() if found is not None else None

    def partner_by_sender(self, isa_qualifier: str, isa_id: str) -> Partner | None:
        return next(
            (p.model_copy() for p in self.list_partners()
             if p.isa_qualifier == isa_qualifier.strip() and p.isa_id.strip() == isa_id.strip()),
            None,
        )  # fmt: skip

    def partner_for_supplier(self, supplier_id: str) -> Partner | None:
        return next((p for p in self.list_partners() if p.supplier_id == supplier_id), None)

    def put_partner(self, partner: Partner) -> Partner:
        partner = partner.model_copy(update={"isa_id": partner.isa_id.strip()})
        holder = self.partner_by_sender(partner.isa_qualifier, partner.isa_id)
        if holder is not None and holder.partner_id != partner.partner_id:
            raise ValueError(
                f"isa_id: {partner.isa_qualifier}/{partner.isa_id} is the sender of partner {holder.partner_id}"
            )
        self.partners[partner.partner_id] = partner.model_copy()
        return partner

    # --- dead letters ---------------------------------------------------------------------------
    def add_dead_letter(self, letter: IntakeDeadLetter) -> IntakeDeadLetter:
        position, kind = letter.position[:500], letter.kind[:64]
        for kept in self.dead_letters.values():
            if (kept.file_id, kept.position, kept.kind) == (letter.file_id, position, kind):
                return kept.model_copy(deep=True)
        letter_id = next(self._ids)
        self.dead_letters[letter_id] = letter.model_copy(
            deep=True,
            update={"id": letter_id, "position": position, "kind": kind, "file_name": letter.file_name[:255],
                    "key": letter.key[:255] if letter.key else None, "created_at": letter.created_at or utcnow()},
        )  # fmt: skip
        return self.dead_letters[letter_id].model_copy(deep=True)

    def get_dead_letter(self, letter_id: int) -> IntakeDeadLetter | None:
        found = self.dead_letters.get(letter_id)
        return found.model_copy(deep=True) if found is not None else None

    def list_dead_letters(
        self, status: DeadLetterStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[IntakeDeadLetter]:
        if limit < 1:
            raise ValueError(f"limit: must be at least 1, got {limit}")
        if offset < 0:
            raise ValueError(f"offset: must not be negative, got {offset}")
        chosen = [self.dead_letters[i] for i in sorted(self.dead_letters)
                  if status is None or self.dead_letters[i].status == status]  # fmt: skip
        return [letter.model_copy(deep=True) for letter in chosen[offset : offset + limit]]

    def resolve_dead_letter(
        self, letter_id: int, status: DeadLetterStatus, resolved_by: str, resolution: str
    ) -> IntakeDeadLetter:
        if status not in RESOLUTIONS:
            raise ValueError(f"status: a dead letter is resolved as replayed or discarded, not {status}")
        letter = self.dead_letters.get(letter_id)
        if letter is None:
            raise LookupError(f"dead letter {letter_id}: no such dead letter")
        if letter.status is not DeadLetterStatus.OPEN:
            raise ValueError(
                f"status: dead letter {letter_id} is already {letter.status.value} (by {letter.resolved_by}); "
                "only an open one can be replayed or discarded"
            )
        letter.status, letter.resolved_by, letter.resolution = status, resolved_by, resolution
        letter.resolved_at = utcnow()
        return letter.model_copy(deep=True)

    # --- EDI messages ---------------------------------------------------------------------------
    def record_edi_message(
        self, direction: str, partner_id: str | None, kind: str, control_number: str, text: str,
        related: str | None = None,
    ) -> int:  # fmt: skip
        if direction not in EDI_DIRECTIONS:
            raise ValueError(f"direction: must be `in` or `out`, not {direction!r}")
        for kept in self.messages:
            if (kept.direction, kept.kind, kept.control_number, kept.text) == (direction, kind, control_number, text):
                return kept.id
        message = EdiMessage.model_validate(
            {"id": len(self.messages) + 1, "direction": direction, "partner_id": partner_id, "kind": kind,
             "control_number": control_number, "text": text, "related": related, "created_at": utcnow()}
        )  # fmt: skip
        self.messages.append(message)
        return message.id

    def edi_messages(
        self, *, direction: str | None = None, partner_id: str | None = None, kind: str | None = None,
        control_number: str | None = None, related: str | None = None, limit: int = 100, offset: int = 0,
    ) -> list[EdiMessage]:  # fmt: skip
        wanted = {"direction": direction, "partner_id": partner_id, "kind": kind, "control_number": control_number,
                  "related": related}  # fmt: skip
        chosen = [m for m in self.messages if all(v is None or getattr(m, k) == v for k, v in wanted.items())]
        return [m.model_copy() for m in chosen[offset : offset + limit]]

    def next_control_number(self, partner_id: str) -> int:
        self.control_numbers[partner_id] = self.control_numbers.get(partner_id, 0) + 1
        return self.control_numbers[partner_id]
