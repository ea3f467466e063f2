"""`IntakeStorePort`: what the intake pipeline keeps in the store (store/intake.py implements it
over SQLAlchemy, tests/support has a fake): received files and their bytes, interchange control
numbers taken per partner, the trading partners, dead letters, and the EDI messages we sent and
received (997/999, TA1, 850)."""

from __future__ import annotations

from typing import Protocol

from domain.intake import DeadLetterStatus, EdiMessage, IntakeDeadLetter, IntakeResult, IntakeSource, Partner


class IntakeStorePort(Protocol):
    # --- files ----------------------------------------------------------------------------------
    def save_file(self, file_id: str, name: str, source: IntakeSource, data: bytes) -> bool:
        """Keep the file's bytes under its content hash; False when these bytes were taken before."""
        ...

    def file_bytes(self, file_id: str) -> bytes: ...

    def finish_file(self, result: IntakeResult) -> None:
        """Record what became of the file (its result, as JSON)."""
        ...

    def file_result(self, file_id: str) -> IntakeResult | None: ...

    def claim_interchange(self, partner_id: str, control_number: str, file_id: str) -> str | None:
        """Take the partner's interchange control number for this file: None when it is new (or
        was taken by this same file, a retried activity), else the file id that took it first."""
        ...

    # --- partners -------------------------------------------------------------------------------
    def list_partners(self) -> list[Partner]: ...

    def get_partner(self, partner_id: str) -> Partner | None: ...

    def partner_by_sender(self, isa_qualifier: str, isa_id: str) -> Partner | None:
        """The partner whose interchanges come from this ISA05/ISA06 (the id compared stripped)."""
        ...

    def partner_for_supplier(self, supplier_id: str) -> Partner | None: ...

    def put_partner(self, partner: Partner) -> Partner:
        """Add or replace (the partner id is the key; an ISA sender another partner uses is refused
        with ValueError naming `isa_id`)."""
        ...

    # --- dead letters ---------------------------------------------------------------------------
    def add_dead_letter(self, letter: IntakeDeadLetter) -> IntakeDeadLetter:
        """Keep it (idempotent per file, position and kind: a retried activity adds it once)."""
        ...

    def get_dead_letter(self, letter_id: int) -> IntakeDeadLetter | None: ...

    def list_dead_letters(
        self, status: DeadLetterStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[IntakeDeadLetter]: ...

    def resolve_dead_letter(
        self, letter_id: int, status: DeadLetterStatus, resolved_by: str, resolution: str
    ) -> IntakeDeadLetter:
        """Mark it replayed or discarded (an open one only: ValueError otherwise)."""
        ...

    # --- EDI messages ---------------------------------------------------------------------------
    def record_edi_message(
        self, direction: str, partner_id: str | None, kind: str, control_number: str, text: str,
        related: str | None = None,
    ) -> int:  # fmt: skip
        """Keep a message we sent (`out`: 850, 997, 999, TA1) or received (`in`); returns its id."""
        ...

    def edi_messages(
        self, *, direction: str | None = None, partner_id: str | None = None, kind: str | None = None,
        control_number: str | None = None, related: str | None = None, limit: int = 100, offset: int = 0,
    ) -> list[EdiMessage]:  # fmt: skip
        """The messages kept, oldest first, filtered by whichever of the arguments are given."""
        ...

    def next_control_number(self, partner_id: str) -> int:
        """The next interchange control number we send to the partner (1, 2, ...; never reused)."""
        ...
