"""File intake over fakes: the seed partner's X12 files become the PO's acknowledgement, its ship
notice and its invoice (each answered with a 997 to the partner); an unknown PO and an unknown
partner are dead letters a replay brings through once the cause is fixed; the same bytes twice
are one intake; a broken envelope is refused with a TA1; a legacy CSV becomes one onboarding per
good row; a catalog price that differs from the contract is a task for contracting; a PO to an
EDI partner goes out as an 850."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from domain.decisions import CONTRACTING_TEAM, DecisionKind
from domain.intake import EdiMessage, InboxInput, IntakeResult, IntakeSource, Partner, RecordOutcome
from domain.po_models import CancelRequest, PoStage
from domain.purchasing import invoice_workflow_id
from runtime.settings import Settings
from starter.operations.intake import replay_dead_letter, submit_file
from tests.support.harness import Harness, Systems, seeded_systems
from tests.workflows.po_support import purchase_order, receive, start_po, until, with_procurement_seed
from workflows.compliance import ReviewTaskWorkflow
from workflows.intake import IntakeInboxWorkflow
from workflows.invoice import InvoiceWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow

EDI = Path(__file__).resolve().parents[1] / "data" / "edi"
CSV = Path(__file__).resolve().parents[2] / "examples" / "files" / "legacy-vendor-requests.csv"
PO = "PO-2026-000460"


@pytest.fixture
def systems() -> Systems:
    systems = with_procurement_seed(seeded_systems())
    systems.erp.seed("SUP-0003", "Cascadia Pharma Distribution Corp", "91-2233445")
    systems.vendor_channel.edi_acknowledgement = "ISA*00*..."  # the partner answers an 850 at once
    return systems


async def take(h: Harness, name: str, data: bytes | None = None) -> IntakeResult:
    settings = Settings(environment="development", task_queue=h.task_queue)
    body = data if data is not None else (EDI / name).read_bytes()
    with h.env.auto_time_skipping_disabled():  # waiting for the intake must not leap the POs past their SLAs
        return await submit_file(h.client, settings, h.systems.intake, name, body, IntakeSource.CLI, "test")


def edited(name: str, old: str, new: str) -> bytes:
    return (EDI / name).read_text().replace(old, new).encode()


async def test_a_partner_po_goes_out_as_850_and_its_855_856_810_come_back_through_intake(harness: Harness) -> None:
    po = await start_po(harness, purchase_order("po-cascadia-edi"))
    await until(po, lambda s: s.stage == "awaiting_acknowledgement")
    sent = harness.systems.vendor_channel.edi_sent
    assert [partner for partner, _ in sent] == ["CASCADIAPHARM"] and "BEG*00*SA*PO-2026-000460" in sent[0][1]

    acked = await take(harness, "855-cascadia-accept.edi")
    assert [r.outcome for r in acked.records] == [RecordOutcome.STARTED] and acked.acknowledgements == ["997 4101"]
    await until(po, lambda s: s.stage == "open")
    shipped = await take(harness, "856-cascadia-asn.edi")
    assert [r.outcome for r in shipped.records] == [RecordOutcome.STARTED]
    status = await until(po, lambda s: s.stage is PoStage.IN_TRANSIT)
    assert [line.shipped for line in status.lines] == [Decimal(30), Decimal(2)]
    await receive(po, 1, "30")
    await receive(po, 2, "2")

    invoiced = await take(harness, "810-cascadia-invoice.edi")
    assert [(r.outcome, r.key) for r in invoiced.records] == [(RecordOutcome.STARTED, "CPD-30460")]
    invoice = harness.client.get_workflow_handle_for(InvoiceWorkflow.run, invoice_workflow_id("SUP-0003", "CPD-30460"))
    assert (await invoice.result()).outcome == "approved"
    again = await take(harness, "810-cascadia-invoice.edi")
    assert again.duplicate_of is not None and again.records == []
    acks = [text for partner, text in harness.systems.vendor_channel.edi_sent[1:]]
    assert len(acks) == 3 and all("ST*997*" in text and "AK9*A*1*1*1" in text for text in acks)


async def test_an_invoice_for_an_unknown_po_is_a_dead_letter_a_replay_takes_once_the_po_exists(
    harness: Harness,
) -> None:
    file = edited("810-cascadia-invoice.edi", "000004103", "000004203")  # another interchange
    taken = await take(harness, "810-early.edi", file)
    (record,) = taken.records
    assert record.outcome is RecordOutcome.DEAD_LETTER and record.dead_letter_id is not None
    assert "PO-2026-000460, unknown here" in (record.reason or "")
    letter = harness.systems.intake.get_dead_letter(record.dead_letter_id)
    assert letter is not None and letter.partner_id == "CASCADIAPHARM" and "BIG*20261218*CPD-30460" in letter.raw

    await start_po(harness, purchase_order("po-cascadia-edi"))
    settings = Settings(environment="development", task_queue=harness.task_queue)
    with harness.env.auto_time_skipping_disabled():
        replayed = await replay_dead_letter(harness.client, settings, harness.systems.intake, record.dead_letter_id,
                                            "ana")  # fmt: skip

    assert replayed.replayed and replayed.record.workflow_id == invoice_workflow_id("SUP-0003", "CPD-30460")
    with pytest.raises(ValueError, match="replayed"):
        await replay_dead_letter(harness.client, settings, harness.systems.intake, record.dead_letter_id, "ana")


async def test_a_broken_envelope_is_refused_with_a_ta1_and_an_unknown_partner_dead_lettered(harness: Harness) -> None:
    refused = await take(harness, "bad-envelope.edi")
    assert refused.refused is not None and "TA1 001" in refused.refused and refused.records == []
    assert refused.acknowledgements == ["TA1 000004104"]

    stranger = edited("855-cascadia-accept.edi", "CASCADIAPHARM  ", "NOBODYWESEE    ")
    taken = await take(harness, "855-stranger.edi", stranger)
    assert [r.outcome for r in taken.records] == [RecordOutcome.DEAD_LETTER]
    assert "unknown trading partner ZZ/NOBODYWESEE" in (taken.records[0].reason or "")


async def test_a_catalog_price_that_differs_from_the_contract_is_a_task_for_contracting(harness: Harness) -> None:
    harness.systems.intake.put_partner(Partner(partner_id="LAKESHOREMED", name="Lakeshore Medical Products Inc",
                                               supplier_id="SUP-0001", isa_id="LAKESHOREMED", gs_id="LAKESHOREMED",
                                               transaction_sets=["832", "997"]))  # fmt: skip
    taken = await take(harness, "832-lakeshore-catalog.edi")

    (record,) = taken.records
    assert record.outcome is RecordOutcome.STARTED and record.workflow_id is not None
    task = harness.client.get_workflow_handle_for(ReviewTaskWorkflow.run, record.workflow_id)
    opened = (await task.query(ReviewTaskWorkflow.status)).open_exception
    assert opened is not None and opened.kind is DecisionKind.CATALOG_PRICE_DISCREPANCY
    assert opened.team == CONTRACTING_TEAM
    assert (opened.evidence["catalog_price"], opened.evidence["contract_price"]) == ("61.10", "59.25")
    assert harness.systems.contracts.contracts["CTR-2026-0112"].prices[0].unit_price == Decimal("59.25")


async def test_a_legacy_csv_becomes_one_onboarding_per_good_row(harness: Harness) -> None:
    taken = await take(harness, "legacy-vendor-requests.csv", CSV.read_bytes())

    outcomes = [(r.key, r.outcome) for r in taken.records]
    assert outcomes == [("VM-300101", RecordOutcome.STARTED), ("VM-300102", RecordOutcome.STARTED),
                        ("VM-300103", RecordOutcome.STARTED), ("VM-300104", RecordOutcome.DEAD_LETTER)]  # fmt: skip
    assert taken.records[3].reason is not None and taken.records[3].reason.startswith("line 5: legal_name")


async def test_a_ship_notice_of_more_than_ordered_is_a_task_for_receiving(harness: Harness) -> None:
    po = await start_po(harness, purchase_order("po-cascadia-edi"))
    await until(po, lambda s: s.stage == "awaiting_acknowledgement")
    await take(harness, "855-cascadia-accept.edi")
    await until(po, lambda s: s.stage == "open")

    taken = await take(harness, "856-over.edi", edited("856-cascadia-asn.edi", "SN1*1*30*CA", "SN1*1*40*CA"))

    (record,) = taken.records
    assert record.outcome is RecordOutcome.STARTED and "40 CS shipped, 30 CS ordered" in (record.reason or ""), record
    task = harness.client.get_workflow_handle_for(ReviewTaskWorkflow.run, "ship-notice-PO-2026-000460-CPD-ASN-9120")
    opened = (await task.query(ReviewTaskWorkflow.status)).open_exception
    assert opened is not None and opened.kind is DecisionKind.SHIP_NOTICE_EXCEPTION


async def test_an_850_no_997_answered_in_time_is_a_task_for_purchasing(harness: Harness, tmp_path: Path) -> None:
    sent = datetime.now(UTC) - timedelta(hours=2)
    harness.systems.intake.messages += [
        EdiMessage(id=90, direction="out", partner_id="CASCADIAPHARM", kind="850", control_number="7", text="...",
                   related="PO-2026-000470", created_at=sent),
        EdiMessage(id=91, direction="out", partner_id="CASCADIAPHARM", kind="850", control_number="8", text="...",
                   related="PO-2026-000471", created_at=sent),
        EdiMessage(id=92, direction="in", partner_id="CASCADIAPHARM", kind="997", control_number="000000008",
                   text="...", created_at=sent),
    ]  # fmt: skip

    with harness.env.auto_time_skipping_disabled():
        scanned = await harness.client.execute_workflow(
            IntakeInboxWorkflow.run, InboxInput(inbox_dir=str(tmp_path / "inbox"), ack_sla_minutes=60),
            id="intake-inbox-test", task_queue=harness.task_queue,
        )  # fmt: skip

    assert scanned.files == [] and scanned.overdue_acknowledgements == ["edi-997-overdue-CASCADIAPHARM-7"]
    task = harness.client.get_workflow_handle_for(ReviewTaskWorkflow.run, "edi-997-overdue-CASCADIAPHARM-7")
    opened = (await task.query(ReviewTaskWorkflow.status)).open_exception
    assert opened is not None and opened.kind is DecisionKind.FUNCTIONAL_ACK_OVERDUE and opened.team == "purchasing"


async def test_a_po_cancelled_before_its_855_is_withdrawn_from_the_partner_by_850(harness: Harness) -> None:
    po = await start_po(harness, purchase_order("po-cascadia-edi"))
    await until(po, lambda s: s.stage == "awaiting_acknowledgement")

    await po.execute_update(PurchaseOrderWorkflow.cancel, CancelRequest(reason="ordered twice", requested_by="ana"))

    texts = [text for _, text in harness.systems.vendor_channel.edi_sent]
    assert [("BEG*00*SA*" in t, "BEG*01*SA*" in t) for t in texts] == [(True, False), (False, True)]
    assert "PO1*1*30*CA*38.4" in texts[1]  # the same order, withdrawn


async def test_a_file_with_one_good_and_one_unknown_po_invoice_takes_one_and_dead_letters_the_other(
    harness: Harness,
) -> None:
    po = await start_po(harness, purchase_order("po-cascadia-edi"))
    await until(po, lambda s: s.stage == "awaiting_acknowledgement")
    text = (EDI / "810-cascadia-invoice.edi").read_text()
    head, rest = text.split("ST*810*0001~", 1)
    body, tail = rest.split("GE*1*4103~", 1)
    other = body.replace("PO-2026-000460", "PO-2026-000999").replace("CPD-30460", "CPD-30999").replace(
        "SE*10*0001", "SE*10*0002")  # fmt: skip
    two = f"{head}ST*810*0001~{body}ST*810*0002~{other}GE*2*4103~{tail}".replace("000004103", "000004503")

    taken = await take(harness, "810-two.edi", two.encode())

    assert [(r.key, r.outcome) for r in taken.records] == [("CPD-30460", RecordOutcome.STARTED),
                                                           ("CPD-30999", RecordOutcome.DEAD_LETTER)]  # fmt: skip
    ack = harness.systems.vendor_channel.edi_sent[-1][1]
    assert "AK2*810*0001" in ack and "AK2*810*0002" in ack and "AK9*A*2*2*2" in ack  # both well formed


async def test_a_set_with_a_wrong_se_count_is_rejected_in_the_997_and_the_other_set_is_taken(
    harness: Harness,
) -> None:
    po = await start_po(harness, purchase_order("po-cascadia-edi"))
    await until(po, lambda s: s.stage == "awaiting_acknowledgement")
    text = (EDI / "855-cascadia-accept.edi").read_text()
    head, rest = text.split("ST*855*0001~", 1)
    body, tail = rest.split("GE*1*4101~", 1)
    broken = body.replace("SE*9*0001", "SE*12*0002")
    two = f"{head}ST*855*0001~{body}ST*855*0002~{broken}GE*2*4101~{tail}".replace("000004101", "000004601")

    taken = await take(harness, "855-two.edi", two.encode())

    assert [r.outcome for r in taken.records] == [RecordOutcome.STARTED, RecordOutcome.DEAD_LETTER]
    assert "Number of Included Segments" in (taken.records[1].reason or "")
    ack = harness.systems.vendor_channel.edi_sent[-1][1]
    assert "AK2*855*0001~AK5*A" in ack.replace("\n", "") and "AK5*R*4" in ack and "AK9*P*2*2*1" in ack
