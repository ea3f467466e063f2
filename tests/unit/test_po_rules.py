"""Purchase-order rules: unit conversion, supplier eligibility, and what an acknowledgement does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.po_models import PoLineProgress, SupplierStanding
from domain.po_rules import apply_acknowledgement, price_increases, supplier_issues
from domain.purchasing import AckLineStatus, AcknowledgementLine, PoAcknowledgement
from domain.reference import Item
from domain.status_sync import ErpAction, erp_action_for
from domain.supplier import BLOCKS_PURCHASING, VendorStatus
from domain.system_records import ErpPoLineChange

GLOVES = Item(item_id="ITM-1001", description="gloves", uoms={"BX": 1, "CS": 10}, base_uom="BX")
S = AckLineStatus


def test_convert_between_units_of_the_item_master() -> None:
    assert GLOVES.convert(Decimal(2), "CS", "BX") == Decimal(20)
    assert GLOVES.convert(Decimal(25), "BX", "CS") == Decimal("2.5")
    assert GLOVES.convert(Decimal("1.50"), "CS", "CS") == Decimal("1.50")
    with pytest.raises(ValueError, match="'PL' is not defined for item ITM-1001"):
        GLOVES.convert(Decimal(1), "CS", "PL")
    with pytest.raises(ValueError, match="'PL' is not defined"):
        GLOVES.convert(Decimal(1), "PL", "BX")
    assert GLOVES.converts("CS", "BX") and not GLOVES.converts("CS", "PL")


@given(
    quantity=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4),
    per_case=st.integers(min_value=1, max_value=500),
)
def test_convert_there_and_back_is_the_same_quantity(quantity: Decimal, per_case: int) -> None:
    item = Item(item_id="X", description="x", uoms={"EA": 1, "CS": per_case}, base_uom="EA")
    assert item.convert(item.convert(quantity, "CS", "EA"), "EA", "CS") == quantity


@pytest.mark.parametrize("status", list(VendorStatus))
def test_one_list_of_vendor_statuses_blocks_purchasing_and_holds_in_the_erp(status: VendorStatus) -> None:
    standing = SupplierStanding(supplier_id="SUP-0001", exists=True, erp_status="active", vendor_status=status.value)
    blocked = bool(supplier_issues(standing, date(2026, 11, 1)))
    assert blocked == (status in BLOCKS_PURCHASING)
    assert (erp_action_for(status) is ErpAction.HOLD) == (status in BLOCKS_PURCHASING)


def test_expired_credentials_and_erp_status_block() -> None:
    standing = SupplierStanding(supplier_id="SUP-0001", exists=True, erp_status="on_hold", hold_reason="audit")
    assert [i.reason for i in supplier_issues(standing, date(2026, 11, 1))] == [
        "supplier SUP-0001 is on_hold in the ERP (audit)"
    ]
    assert supplier_issues(SupplierStanding(supplier_id="X", exists=False), date(2026, 11, 1))[0].field == "supplier_id"


def lines() -> list[PoLineProgress]:
    return [
        PoLineProgress(line=1, item_id="ITM-1001", uom="CS", ordered=Decimal(20), unit_price=Decimal("84.50"),
                       reservation_id="RSV-1"),
        PoLineProgress(line=2, item_id="ITM-1003", uom="BX", ordered=Decimal(10), unit_price=Decimal("112.80"),
                       reservation_id="RSV-2"),
    ]  # fmt: skip


def ack(*ack_lines: AcknowledgementLine) -> PoAcknowledgement:
    return PoAcknowledgement(
        event_id="ack-1", po_number="PO-1", acknowledged_at=datetime(2026, 11, 2, tzinfo=UTC), lines=list(ack_lines)
    )


def test_unmentioned_lines_are_accepted_and_change_nothing() -> None:
    effects = apply_acknowledgement(lines(), ack())
    assert [line.ack_status for line in effects.lines] == [S.ACCEPTED, S.ACCEPTED]
    assert effects.erp_changes == [] and effects.released_reservations == []
    assert not effects.every_line_rejected


def test_each_kind_of_change_is_recorded_on_its_line_and_asked_of_the_erp() -> None:
    promised = date(2026, 12, 1)
    effects = apply_acknowledgement(
        lines(),
        ack(
            AcknowledgementLine(line=1, status=S.BACKORDERED, backordered_quantity=Decimal(5), promised_date=promised),
            AcknowledgementLine(line=2, status=S.QUANTITY_CHANGED, quantity=Decimal(8)),
            AcknowledgementLine(line=9, status=S.REJECTED),  # not a line of the PO: ignored
        ),
    )
    first, second = effects.lines
    assert first.backordered == Decimal(5) and first.promised_date == promised and first.ordered == Decimal(20)
    assert second.ordered == Decimal(8) and second.ack_status is S.QUANTITY_CHANGED
    assert effects.erp_changes == [
        (1, ErpPoLineChange(backordered_quantity=Decimal(5), promised_date=promised)),
        (2, ErpPoLineChange(quantity=Decimal(8))),
    ]


def test_rejected_lines_are_cancelled_and_release_their_reservation() -> None:
    before = lines()
    effects = apply_acknowledgement(before, ack(AcknowledgementLine(line=2, status=S.REJECTED)))
    assert effects.lines[1].cancelled and effects.released_reservations == ["RSV-2"]
    assert effects.erp_changes == [(2, ErpPoLineChange(status="cancelled"))]
    assert not before[1].cancelled  # the input is not changed
    every = apply_acknowledgement(before, ack(*(AcknowledgementLine(line=n, status=S.REJECTED) for n in (1, 2))))
    assert every.every_line_rejected and every.released_reservations == ["RSV-1", "RSV-2"]


def test_only_price_increases_need_approval() -> None:
    up = AcknowledgementLine(line=1, status=S.PRICE_CHANGED, unit_price=Decimal("90.00"))
    down = AcknowledgementLine(line=2, status=S.PRICE_CHANGED, unit_price=Decimal("100.00"))
    assert price_increases(lines(), ack(up, down)) == [(up, Decimal("84.50"))]
    effects = apply_acknowledgement(lines(), ack(up, down))
    assert [line.unit_price for line in effects.lines] == [Decimal("90.00"), Decimal("100.00")]
