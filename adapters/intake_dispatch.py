"""`IntakeDispatchPort`: where the intake pipeline hands each record, as the same governed call a
JSON request makes (starter/operations/intake_dispatch.py over Temporal; tests have a fake)."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.compliance import ReviewTaskInput
from domain.intake import IntakeFileInput, IntakeResult
from domain.purchasing import Invoice, PoAcknowledgement, PurchaseOrder
from domain.shipping import ShipNotice
from domain.supplier import SupplierOnboardingRequest


class Started(Protocol):
    workflow_id: str
    new: bool  # False: the record joined (or was refused by) a run that already had it


class IntakeDispatchPort(Protocol):
    async def acknowledge(self, ack: PoAcknowledgement) -> str | None:
        """Deliver to the PO's workflow as the webhook does; None when the PO has no running run."""
        ...

    async def ship_notice(self, notice: ShipNotice) -> str | None:
        """Deliver to the PO's workflow; None when the PO has no running run."""
        ...

    async def start_invoice(self, invoice: Invoice, submitted_by: str) -> tuple[str, bool]:
        """(workflow id, started now); False when a run with this invoice exists (never paid twice)."""
        ...

    async def start_purchase_order(self, po: PurchaseOrder, submitted_by: str) -> tuple[str, bool]: ...

    async def start_onboarding(self, request: SupplierOnboardingRequest) -> tuple[str, bool]: ...

    async def open_task(self, task_id: str, task: ReviewTaskInput) -> str:
        """Open (or join) a review task for a team; returns its workflow id."""
        ...

    async def purchase_order_lines(self, po_number: str) -> dict[int, tuple[Decimal, Decimal, str]] | None:
        """Line -> (ordered, shipped so far, unit) of the PO's running workflow; None when none runs."""
        ...

    async def purchase_order_known(self, po_number: str) -> bool:
        """Whether the PO exists here (its workflow ran or runs)."""
        ...

    async def process_file(self, params: IntakeFileInput) -> IntakeResult:
        """Run the file's intake workflow and wait for it (the inbox scan)."""
        ...
