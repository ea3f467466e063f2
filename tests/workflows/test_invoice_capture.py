"""An invoice run that crashed after capturing (or even approving) its invoice in AP finds its own
capture on retry and is not a duplicate of itself; another run of the same invoice is."""

from __future__ import annotations

from decimal import Decimal

from activities.invoicing import InvoiceActivities
from domain.invoice_models import MatchFactsInput, PostInvoiceInput
from domain.purchasing import Invoice
from tests.examples import example_json
from tests.support.harness import Systems


def invoice() -> Invoice:
    return Invoice.model_validate(example_json("invoices/inv-clean.json"))


def activities(systems: Systems) -> InvoiceActivities:
    return InvoiceActivities(procurement=systems.procurement, contracts=systems.contracts, accounts_payable=systems.ap)


async def capture_and_approve(acts: InvoiceActivities, captured_by: str) -> None:
    posted = PostInvoiceInput(
        invoice=invoice(), captured_by=captured_by, approve=True, amount=Decimal("100.00"), idempotency_prefix="wf-1"
    )
    await acts.post_invoice(posted)


async def test_the_runs_own_approved_capture_is_not_a_duplicate() -> None:
    systems = Systems()
    acts = activities(systems)
    await capture_and_approve(acts, captured_by="invoice-wf:run-1")
    facts = await acts.gather_match_facts(
        MatchFactsInput(invoice=invoice(), workflow_id="invoice-wf", capture_id="invoice-wf:run-1")
    )
    assert facts.duplicate_of is None


async def test_a_later_run_of_the_same_invoice_is_a_duplicate() -> None:
    systems = Systems()
    acts = activities(systems)
    await capture_and_approve(acts, captured_by="invoice-wf:run-1")
    later = await acts.gather_match_facts(
        MatchFactsInput(invoice=invoice(), workflow_id="invoice-wf", capture_id="invoice-wf:run-2")
    )
    assert later.duplicate_of is not None and later.duplicate_of.status == "approved"
    other = await acts.gather_match_facts(MatchFactsInput(invoice=invoice(), workflow_id="invoice-other"))
    assert other.duplicate_of is not None


async def test_a_run_recorded_before_run_scoped_captures_keeps_its_unfinished_capture() -> None:
    systems = Systems()
    acts = activities(systems)
    await systems.ap.capture(invoice(), captured_by="invoice-wf", idempotency_key="k")
    facts = await acts.gather_match_facts(MatchFactsInput(invoice=invoice(), workflow_id="invoice-wf"))
    assert facts.duplicate_of is None
