"""Replenishment rules against the seed's items and contracts (the outcomes examples/README.md
promises), and their properties (hypothesis): never order less than needed, never more than a
unit too much, and the choice is always the cheapest eligible contract."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.decisions import ExceptionAction, ExceptionResolution, OrderFrom
from domain.po_models import PoStage
from domain.po_models import SupplierStanding as CheckedSupplier
from domain.po_rules import supplier_issues
from domain.reference import Contract, Item
from domain.replenishment import (
    StockPosition,
    SupplierStanding,
    approval_limit,
    approval_note,
    choose_vendor,
    in_whole_units,
    quantity_needed,
    standing_of,
)
from domain.replenishment_models import PoProgressNotice, stage_for_po
from domain.supplier import CredentialDocument

SEED = Path(__file__).resolve().parents[2] / "sandbox" / "seed"
ITEMS = {i["item_id"]: Item.model_validate(i) for i in json.loads((SEED / "items.json").read_text())}
CONTRACTS = [Contract.model_validate(c) for c in json.loads((SEED / "contracts.json").read_text())]
DAY = date(2026, 11, 24)
ALL_ACTIVE = {f"SUP-000{n}": SupplierStanding(supplier_id=f"SUP-000{n}") for n in range(1, 7)}
GLOVES = ITEMS["ITM-1001"]


def test_gloves_below_their_reorder_point_are_ordered_up_to_par_from_the_cheapest_supplier() -> None:
    position = StockPosition(location_id="LOC-CS-01", item_id="ITM-1001", uom="CS", on_hand=Decimal(9),
                             par=Decimal(40), reorder_point=Decimal(12))  # fmt: skip
    assert position.breached and quantity_needed(position) == 31

    sourcing = choose_vendor(GLOVES, Decimal(31), "CS", CONTRACTS, ALL_ACTIVE, DAY)

    assert sourcing.chosen is not None
    chosen = sourcing.chosen
    assert (chosen.contract_id, chosen.supplier_id, chosen.quantity, chosen.unit_price) == (
        "CTR-2026-0112", "SUP-0001", Decimal(31), Decimal("59.25"),
    )  # fmt: skip
    refused = {c.contract_id: c.refused for c in sourcing.considered if c is not chosen}
    assert refused == {"CTR-2026-0107": "61.00 per CS is not the lowest price"}


def test_with_the_cheapest_supplier_suspended_the_other_contract_is_chosen() -> None:
    standings = {**ALL_ACTIVE, "SUP-0001": SupplierStanding(supplier_id="SUP-0001", suspended=True)}

    sourcing = choose_vendor(GLOVES, Decimal(31), "CS", CONTRACTS, standings, DAY)

    assert sourcing.chosen is not None
    assert (sourcing.chosen.supplier_id, sourcing.chosen.unit_price) == ("SUP-0002", Decimal("61.00"))


def test_a_larger_order_reaches_the_volume_tier() -> None:
    sourcing = choose_vendor(GLOVES, Decimal(120), "CS", CONTRACTS, ALL_ACTIVE, DAY)
    assert sourcing.chosen is not None
    assert (sourcing.chosen.supplier_id, sourcing.chosen.unit_price) == ("SUP-0002", Decimal("57.50"))


def test_no_eligible_supplier_is_a_sourcing_exception_with_every_reason() -> None:
    standings = {
        "SUP-0001": SupplierStanding(supplier_id="SUP-0001", suspended=True),
        "SUP-0002": SupplierStanding(supplier_id="SUP-0002", on_hold=True),
    }

    sourcing = choose_vendor(GLOVES, Decimal(31), "CS", CONTRACTS, standings, DAY)

    assert sourcing.chosen is None
    assert {c.contract_id: c.refused for c in sourcing.considered} == {
        "CTR-2026-0107": "supplier SUP-0002 on hold in the ERP",
        "CTR-2026-0112": "supplier SUP-0001 suspended in vendor management",
    }


def test_an_expired_contract_is_refused_and_a_balance_in_another_unit_is_rounded_up_to_packs() -> None:
    assert in_whole_units(GLOVES, Decimal(25), "BX", "CS") == 3
    sourcing = choose_vendor(ITEMS["ITM-1006"], Decimal(1), "EA", CONTRACTS, ALL_ACTIVE, DAY)
    assert sourcing.chosen is None
    assert sourcing.considered[0].refused is not None and "not in force" in sourcing.considered[0].refused


def test_the_preferred_supplier_wins_a_tie() -> None:
    twin = CONTRACTS[1].model_copy(update={"contract_id": "CTR-TWIN", "supplier_id": "SUP-0004"})
    standings = {**ALL_ACTIVE}
    sourcing = choose_vendor(GLOVES, Decimal(31), "CS", [CONTRACTS[1], twin], standings, DAY,
                             preferred_supplier="SUP-0004")  # fmt: skip
    assert sourcing.chosen is not None and sourcing.chosen.contract_id == "CTR-TWIN"


quantities = st.integers(min_value=0, max_value=5000).map(Decimal)


@given(quantities, st.sampled_from(["BX", "CS"]), st.sampled_from(["BX", "CS"]))
def test_whole_units_are_never_less_than_needed_nor_a_whole_unit_more(quantity: Decimal, src: str, dst: str) -> None:
    whole = in_whole_units(GLOVES, quantity, src, dst)
    exact = GLOVES.convert(quantity, src, dst)
    assert whole == whole.to_integral_value() and exact <= whole < exact + 1


@given(st.integers(min_value=1, max_value=400).map(Decimal), st.sets(st.sampled_from(["SUP-0001", "SUP-0002"])))
def test_the_choice_is_the_cheapest_eligible_and_refusals_cover_the_rest(
    quantity: Decimal, suspended: set[str]
) -> None:
    standings = {s: SupplierStanding(supplier_id=s, suspended=s in suspended) for s in ("SUP-0001", "SUP-0002")}
    sourcing = choose_vendor(GLOVES, quantity, "CS", CONTRACTS, standings, DAY)
    eligible = [c for c in CONTRACTS if c.in_force_on(DAY) and c.supplier_id in standings
                and c.supplier_id not in suspended and c.price_for("ITM-1001", "CS", quantity) is not None]  # fmt: skip
    if not eligible:
        assert sourcing.chosen is None
        return
    cheapest = min(c.price_for("ITM-1001", "CS", quantity) or Decimal(0) for c in eligible)
    assert sourcing.chosen is not None and sourcing.chosen.unit_price == cheapest
    assert all(c.refused for c in sourcing.considered if c is not sourcing.chosen)


# --- standing, approval limits, the PO's progress --------------------------------------------


def _checked(**changes: object) -> CheckedSupplier:
    facts = {"supplier_id": "SUP-0001", "exists": True, "erp_status": "active", **changes}
    return CheckedSupplier.model_validate(facts)


def test_a_supplier_is_judged_by_the_same_facts_a_po_validation_reads() -> None:
    expired = CredentialDocument(kind="insurance", expires_on=date(2026, 11, 1))
    cases = {
        "suspended in vendor management": _checked(vendor_status="suspended"),
        "not active": _checked(exists=False),
        "on hold in the ERP": _checked(erp_status="on_hold"),
        "credentials not current": _checked(credentials=[expired]),
        None: _checked(),
    }
    for reason, checked in cases.items():
        standing = standing_of(checked, DAY)
        assert standing.refusal() == reason
        # the PO's own validation refuses exactly the suppliers sourcing refuses
        assert bool(supplier_issues(checked, DAY)) == (reason is not None)


def test_critical_items_have_their_own_approval_limit() -> None:
    saline = ITEMS["ITM-1004"]
    assert saline.critical and not GLOVES.critical
    assert approval_limit(saline, Decimal(5000), Decimal(25000)) == Decimal(25000)
    assert approval_limit(GLOVES, Decimal(5000), Decimal(25000)) == Decimal(5000)
    assert approval_note(GLOVES, Decimal("1836.75"), Decimal(5000)).startswith("no approval")
    assert approval_note(saline, Decimal("25000.01"), Decimal(25000)).startswith("purchasing approves")


def test_the_replenishment_shows_the_stage_its_po_moved_to() -> None:
    def shown(event: str, stage: PoStage, received: bool = False) -> tuple[str, str]:
        notice = PoProgressNotice(po_number="RPL-1", event=event, stage=stage, received_in_full=received)
        replenishment, po = stage_for_po(notice)
        return replenishment.value, po.value

    assert shown("purchase_order.exception_raised", PoStage.AWAITING_APPROVAL) == ("ordering", "awaiting_approval")
    assert shown("purchase_order.released", PoStage.RELEASING) == ("awaiting_acknowledgement",
                                                                   "awaiting_acknowledgement")  # fmt: skip
    assert shown("purchase_order.acknowledged", PoStage.AWAITING_ACKNOWLEDGEMENT) == ("awaiting_delivery", "open")
    assert shown("purchase_order.received_in_full", PoStage.OPEN, True) == ("awaiting_delivery", "open")


def test_a_sourcing_resolution_names_a_supplier_and_price_only_when_it_orders() -> None:
    order = OrderFrom(supplier_id="SUP-0002", unit_price=Decimal("61.00"))
    assert ExceptionResolution(action=ExceptionAction.ORDER_FROM, reason="spot buy", order_from=order).order_from
    with pytest.raises(ValidationError, match="order_from: name the supplier"):
        ExceptionResolution(action=ExceptionAction.ORDER_FROM, reason="spot buy")
    with pytest.raises(ValidationError, match="order_from: only with the action order_from"):
        ExceptionResolution(action=ExceptionAction.DISMISS, reason="not needed", order_from=order)
