"""Hypothesis strategies for the `data` of every business event type, built the way the
publishing workflow builds it: the same dict literals (with the fields its `_publish` adds) and,
where a workflow publishes a domain model, that model dumped with `mode="json"`. Sensitive keys
appear where they can (a drift count of `tax_id` or `bank_account`, a masked conflict value): the
relay masks them before an event leaves (domain.audit.mask_sensitive)."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from domain.alert_facts import AlertKind
from domain.alerts import Severity
from domain.compliance import ComplianceOutcome, CredentialBand, CredentialNotice, NewlyExcluded
from domain.decisions import PURCHASING_TEAM, TEAMS, DecisionKind, ExceptionAction, manager_team
from domain.exclusions import ExclusionMatch
from domain.master_data.policy import Entity, MasterSystem
from domain.master_data.summary import SyncSummary
from domain.master_data.survivorship import ConflictKind
from domain.master_data.sync import ConflictFound, ConflictOutcome
from domain.matching import DiscrepancyKind
from domain.onboarding import OnboardingOutcome, RejectionKind
from domain.po_models import PoRejectionKind
from domain.purchasing import AckLineStatus
from domain.replenishment_models import PlannedOrder, ReplenishmentOutcome
from domain.sensitive import mask
from domain.status_sync import AppliedStatusChange, ErpAction
from domain.supplier import BLOCKS_PURCHASING, VendorStatus
from domain.system_records import ApInvoiceStatus

Data = dict[str, Any]
ids = st.from_regex(r"[A-Z]{2,4}-[0-9]{1,6}", fullmatch=True)
words = st.text(string.ascii_letters + string.digits + " -.,:;()'", min_size=1, max_size=60)
optional_words = st.none() | words
teams = st.sampled_from([*TEAMS, *(manager_team(team) for team in TEAMS)])
people = st.from_regex(r"[a-z]{2,10}\.[a-z]{2,10}@hospital\.example", fullmatch=True)
counts = st.integers(min_value=0, max_value=10_000)
amounts = st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
when = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
fields = st.lists(st.sampled_from(["legal_name", "tax_id.value", "lines.0.quantity", "contract_ref", "ship_to"]))
SENSITIVE_FIELDS = ["tax_id", "bank_account"]


def dumped(strategy: st.SearchStrategy[BaseModel]) -> st.SearchStrategy[Data]:
    return strategy.map(lambda model: model.model_dump(mode="json"))


def merged(*parts: st.SearchStrategy[Data]) -> st.SearchStrategy[Data]:
    return st.tuples(*parts).map(lambda drawn: {key: value for part in drawn for key, value in part.items()})


def with_fields(base: st.SearchStrategy[Data], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Data]:
    """What a workflow's `_publish` does: its own fields, then the event's."""
    return merged(base, st.fixed_dictionaries(fields))


review_decided = st.fixed_dictionaries(
    {
        "action": st.sampled_from([ExceptionAction.APPROVE.value, ExceptionAction.REJECT.value]),
        "reason": words,
        "resolved_by": people,
        "summary": words,
        "outcome": st.sampled_from([ComplianceOutcome.CONFIRMED.value, ComplianceOutcome.DISMISSED.value]),
    }
)


def status_change(action: ErpAction | None) -> st.SearchStrategy[Data]:
    statuses = st.sampled_from(sorted(BLOCKS_PURCHASING) if action is ErpAction.HOLD else list(VendorStatus))
    matched = action is not None
    return dumped(
        st.builds(
            AppliedStatusChange,
            event_id=ids,
            status=statuses,
            action=st.just(action),
            erp_supplier_id=ids if matched else st.none(),
            erp_status=st.sampled_from(["on_hold", "active"]) if matched else st.none(),
            note=st.none() if matched else words,
            purchase_orders=st.lists(ids, max_size=3),
        )
    )


def drift() -> st.SearchStrategy[dict[str, dict[str, int]]]:
    systems = st.sampled_from([system.value for system in MasterSystem])
    field_names = st.sampled_from(["legal_name", "address", "status", *SENSITIVE_FIELDS])
    return st.dictionaries(systems, st.dictionaries(field_names, st.integers(1, 500), min_size=1), max_size=3)


def conflict() -> st.SearchStrategy[Data]:
    plain = st.builds(
        ConflictFound,
        record=ids,
        system=st.sampled_from([s.value for s in MasterSystem]),
        local_id=st.none() | ids,
        field=st.sampled_from(["legal_name", "status"]),
        kind=st.sampled_from([k.value for k in ConflictKind]),
        before=optional_words,
        surviving=optional_words,
        rule=st.just("authority:vendor_management"),
    )
    secret = st.from_regex(r"[0-9]{9,12}", fullmatch=True).map(mask)
    sensitive = st.builds(
        ConflictFound,
        record=ids,
        system=st.just(MasterSystem.ERP.value),
        local_id=ids,
        field=st.sampled_from(SENSITIVE_FIELDS),
        kind=st.just(ConflictKind.SENSITIVE_DIFFERS.value),
        before=secret,
        surviving=secret,
        rule=st.just("authority:erp"),
        sensitive=st.just(True),
    )
    return dumped(plain | sensitive)


def credential(band: st.SearchStrategy[CredentialBand], days_left: st.SearchStrategy[int]) -> st.SearchStrategy[Data]:
    return dumped(
        st.builds(
            CredentialNotice,
            vendor_id=ids,
            erp_supplier_id=st.none() | ids,
            legal_name=optional_words,
            kind=st.sampled_from(["coi", "w9", "license"]),
            expires_on=dates,
            days_left=days_left,
            band=band,
        )
    )


po = st.fixed_dictionaries({"supplier_id": ids})
invoice = st.fixed_dictionaries({"po_number": ids, "invoice_number": ids})
replenishment = st.fixed_dictionaries({"location_id": ids, "item_id": ids})
exclusion_match = st.builds(
    ExclusionMatch,
    score=st.floats(80, 100),
    npi=st.none() | st.from_regex(r"[0-9]{10}", fullmatch=True),
    waiver=st.none() | words,
)
summary = st.builds(
    SyncSummary,
    entity=st.sampled_from([e.value for e in Entity]),
    drifted=drift(),
    matched=counts,
    in_sync=counts,
    corrected=counts,
    created=counts,
    conflicts=counts,
    awaiting_decision=counts,
    kept=counts,
    read=st.dictionaries(st.sampled_from([s.value for s in MasterSystem]), counts),
    rejected=st.lists(words, max_size=2),
    duration_seconds=st.floats(0, 3600),
)
planned = st.builds(
    PlannedOrder,
    po_number=st.from_regex(r"RPL-[0-9]{6}-[0-9A-F]{6}", fullmatch=True),
    supplier_id=ids,
    contract_id=st.none() | ids,
    uom=st.sampled_from(["CS", "EA", "BX"]),
    quantity=st.integers(1, 500).map(Decimal),
    unit_price=amounts,
    value=amounts,
    approval=words,
    chosen_by=st.just("sourcing") | people,
)

alert = st.fixed_dictionaries(
    {
        "alert_id": st.integers(min_value=1, max_value=10**9),
        "rule": st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
        "kind": st.sampled_from([k.value for k in AlertKind]),
        "subject": st.sampled_from(["erp", "pricing", "dead-letters", "suppliers"]) | ids,
        "severity": st.sampled_from([s.value for s in Severity]),
        "summary": words,
        "team": st.just("operations") | teams,
        "opened_at": when.map(datetime.isoformat),
        "value": st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False),
        "threshold": st.floats(min_value=0, max_value=1e6, allow_nan=False),
        "notices": st.integers(min_value=1, max_value=1000),
    }
)

SAMPLES: dict[str, st.SearchStrategy[Data]] = {
    "supplier.onboarded": st.fixed_dictionaries(
        {
            "erp_supplier_id": ids,
            "vendor_id": ids,
            "outcome": st.sampled_from([OnboardingOutcome.ONBOARDED.value, OnboardingOutcome.LINKED.value]),
        }
    ),
    "supplier.onboarding_rejected": st.fixed_dictionaries(
        {"vendor_id": ids, "kind": st.sampled_from([k.value for k in RejectionKind]), "fields": fields}
    ),
    "supplier.review_requested": st.fixed_dictionaries({"team": teams, "vendor_id": ids}),
    "supplier.review_escalated": st.fixed_dictionaries(
        {"team": teams, "vendor_id": ids, "sla_hours": st.floats(0.01, 500)}
    ),
    "supplier.excluded": dumped(
        st.builds(
            NewlyExcluded,
            vendor_id=ids,
            erp_supplier_id=st.none() | ids,
            legal_name=words,
            matches=st.lists(exclusion_match, min_size=1, max_size=3),
        )
    ),
    "supplier.credential_expiring": credential(
        st.sampled_from([CredentialBand.DAYS_60, CredentialBand.DAYS_30, CredentialBand.DAYS_7]), st.integers(1, 60)
    ),
    "supplier.credential_expired": credential(st.just(CredentialBand.EXPIRED), st.integers(-400, 0)),
    "supplier.hold_placed": status_change(ErpAction.HOLD),
    "supplier.hold_released": status_change(ErpAction.RELEASE),
    "supplier.status_change_unmatched": status_change(None),
    **{
        f"{kind.value}.decided": review_decided
        for kind in (
            DecisionKind.COMPLIANCE_REVIEW,
            DecisionKind.CREDENTIAL_RENEWAL,
            DecisionKind.CATALOG_PRICE_DISCREPANCY,
            DecisionKind.SHIP_NOTICE_EXCEPTION,
            DecisionKind.FUNCTIONAL_ACK_OVERDUE,
        )
    },
    "master_data.conflict_resolved": st.fixed_dictionaries(
        {
            "conflict": conflict(),
            "action": st.sampled_from([ExceptionAction.APPROVE.value, ExceptionAction.REJECT.value]),
            "resolved_by": people,
            "reason": words,
            "outcome": st.sampled_from([o.value for o in ConflictOutcome]),
            "note": optional_words,
        }
    ),
    "master_data.drifted": st.fixed_dictionaries(
        {"sync_id": ids, "entity": st.sampled_from([e.value for e in Entity]), "drifted": drift()}
    ),
    "sync.completed": with_fields(dumped(summary), sync_id=ids),
    "purchase_order.released": with_fields(po, lines=st.integers(1, 200), ship_to=ids),
    "purchase_order.acknowledgement_overdue": with_fields(po, escalated_to=teams),
    "purchase_order.acknowledged": with_fields(
        po,
        lines=st.dictionaries(
            st.integers(1, 99).map(str), st.sampled_from([s.value for s in AckLineStatus]), min_size=1
        ),
    ),
    "purchase_order.closed": with_fields(po, receipts=counts),
    "purchase_order.invoice_overdue": with_fields(po, escalated_to=teams, due_at=when.map(datetime.isoformat)),
    "purchase_order.invoice_failed": with_fields(po, escalated_to=teams, reason=words),
    "purchase_order.rejected": with_fields(po, kind=st.sampled_from([k.value for k in PoRejectionKind]), fields=fields),
    "purchase_order.cancelled": with_fields(
        po,
        reason=words,
        compensations=st.lists(
            st.sampled_from(["release_reservations", "cancel_po_with_vendor", "cancel_po_in_erp"]), unique=True
        ),
    ),
    "purchase_order.exception_raised": with_fields(
        po, kind=st.sampled_from([k.value for k in DecisionKind]), team=teams
    ),
    "purchase_order.exception_resolved": with_fields(
        po,
        kind=st.sampled_from([k.value for k in DecisionKind]),
        action=st.sampled_from([a.value for a in ExceptionAction]),
        by=people,
    ),
    "purchase_order.exception_escalated": with_fields(
        po, kind=st.sampled_from([k.value for k in DecisionKind]), team=teams
    ),
    "invoice.duplicate_refused": with_fields(
        invoice, original=ids, status=st.sampled_from([s.value for s in ApInvoiceStatus])
    ),
    "invoice.approved": with_fields(invoice, amount=amounts.map(str)),
    "invoice.exception_raised": with_fields(
        invoice,
        team=teams,
        kinds=st.lists(st.sampled_from([k.value for k in DiscrepancyKind]), min_size=1, unique=True),
    ),
    "invoice.exception_resolved": with_fields(
        invoice,
        action=st.sampled_from(
            [
                ExceptionAction.ACCEPT_VARIANCE,
                ExceptionAction.REQUEST_CREDIT_MEMO,
                ExceptionAction.SHORT_PAY,
                ExceptionAction.REJECT,
            ]
        ).map(str),
        by=people,
        amount=amounts.map(str),
    ),
    "invoice.exception_escalated": with_fields(invoice, team=teams),
    "replenishment.sourcing_exception": with_fields(replenishment, summary=words, team=st.just(PURCHASING_TEAM)),
    "replenishment.ordered": merged(replenishment, dumped(planned)),
    "replenishment.completed": with_fields(
        replenishment, outcome=st.sampled_from([o.value for o in ReplenishmentOutcome]), reason=optional_words
    ),
    "alert.raised": alert,
    "alert.renotified": alert,
    "alert.resolved": with_fields(alert, resolved_at=when.map(datetime.isoformat)),
    "subscription.test": st.fixed_dictionaries(
        {"subscription_id": st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), "requested_by": people}
    ),
}
