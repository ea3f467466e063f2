"""The demo's file and X12 scenarios (examples/README.md, "edi/" and "files/"), after the
procure-to-pay ones: PO-2026-000460 to Cascadia, which trades by X12 only, goes out as an 850 (the
partner answers a 997); its 855, 856 and 810 come back as files through intake and move the PO
and its invoice exactly as the JSON documents do (each answered with our 997); the same 810 again
is a duplicate, never paid twice; Lakeshore's 832 price that differs from its contract is a task
for contracting; a broken envelope dropped in the watched inbox is refused with a TA1 and moved to
`rejected/`; the legacy vendor-request CSV becomes one onboarding per good row, the row without a
name a dead letter naming its line and field."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from domain.intake import IntakeResult, IntakeSource, Partner, RecordOutcome
from domain.po_models import PoStage, PoStatus, ReceiptRequest
from domain.purchasing import PurchaseOrder, purchase_order_workflow_id
from starter import operations as ops
from starter.demo_report import DemoProgress, Row
from starter.operations.intake import submit_file
from starter.stack import EmbeddedStack
from store import Store

PO = "PO-2026-000460"
WAIT_SECONDS = 30.0


async def edi(stack: EmbeddedStack, examples: Path, progress: DemoProgress) -> None:
    settings = stack.settings
    headers = {"Authorization": f"Bearer {settings.sandbox_token.get_secret_value()}"}
    store = Store(settings.resolved_store_url)
    try:
        async with httpx.AsyncClient(base_url=settings.resolved_sandbox_url, timeout=10, headers=headers) as http:
            scenario = _EdiScenario(stack, examples, progress, store, http)
            await scenario.run()
    finally:
        store.close()


async def _eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    answer = await check()
    while not answer and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        answer = await check()
    return answer


class _EdiScenario:
    def __init__(self, stack: EmbeddedStack, examples: Path, progress: DemoProgress, store: Store,
                 http: httpx.AsyncClient) -> None:  # fmt: skip
        assert stack.client is not None
        self.stack, self.client, self.settings = stack, stack.client, stack.settings
        self.examples, self.progress, self.store, self.http = examples, progress, store, http

    async def run(self) -> None:
        if not await self._po_out():
            return
        await self._file("855-cascadia-accept.edi", lambda s: s.stage in (PoStage.OPEN, PoStage.IN_TRANSIT),
                         "PO-2026-000460 acknowledged in full (both lines IA)")  # fmt: skip
        await self._file("856-cascadia-asn.edi", lambda s: s.stage is PoStage.IN_TRANSIT,
                         "PO-2026-000460 in_transit: 30 CS and 2 CS shipped, FedEx Ground 794644790132")  # fmt: skip
        for line, quantity in ((1, 30), (2, 2)):
            await ops.record_receipt(self.client, PO, ReceiptRequest(line=line, quantity=quantity))
        await self._invoice()
        await self._catalog()
        await self._inbox_refusal()
        await self._csv()

    async def _po_status(self) -> PoStatus | None:
        view = await ops.describe_run(self.client, self.settings, purchase_order_workflow_id(PO))
        return view.answer(PoStatus)

    async def _take(self, name: str, folder: str = "edi") -> IntakeResult:
        data = (self.examples / folder / name).read_bytes()
        return await submit_file(self.client, self.settings, self.store.intake, name, data, IntakeSource.CLI, "demo")

    def _row(self, name: str, workflow_id: str, outcome: str, detail: str, ok: bool) -> None:
        self.progress.add(Row(name, workflow_id, outcome, detail, ok, self.settings.workflow_url(workflow_id)))

    async def _messages(self, kind: str) -> list[dict[str, Any]]:
        found = await self.http.get(
            "/vendor-channel/edi/messages", params={"partner_id": "CASCADIAPHARM", "kind": kind}
        )
        return list(found.json().get("items", [])) if found.status_code == 200 else []

    async def _po_out(self) -> bool:
        po = PurchaseOrder.model_validate_json((self.examples / "purchase-orders" / "po-cascadia-edi.json").read_text())
        handle = await ops.start_purchase_order(self.client, self.settings, po, submitted_by="demo")
        status = await _eventually(self._waiting_for_vendor)
        sent = await _eventually(lambda: self._messages("850"))
        ok = status is not None and bool(sent)
        detail = "sent as an X12 850 to CASCADIAPHARM (no JSON notification); the partner answered a 997"
        self._row("po-cascadia-edi.json (X12 850 out)", handle.id, "850 sent" if sent else "not sent", detail, ok)
        return ok

    async def _waiting_for_vendor(self) -> PoStatus | None:
        status = await self._po_status()
        return status if status and status.stage is PoStage.AWAITING_ACKNOWLEDGEMENT else None

    async def _file(self, name: str, reached: Callable[[PoStatus], bool], promised: str) -> None:
        taken = await self._take(name)

        async def moved() -> PoStatus | None:
            status = await self._po_status()
            return status if status and reached(status) else None

        status = await _eventually(moved)
        ok = status is not None and [r.outcome for r in taken.records] == [RecordOutcome.STARTED]
        detail = f"{promised}; our {', '.join(taken.acknowledgements) or 'no 997'} to the partner"
        self._row(f"{name} (intake)", purchase_order_workflow_id(PO), status.stage.value if status else "not moved",
                  detail, ok)  # fmt: skip

    async def _invoice(self) -> None:
        taken = await self._take("810-cascadia-invoice.edi")
        workflow_id = taken.records[0].workflow_id if taken.records else None
        view = await ops.wait_until_settled(self.client, self.settings, workflow_id, 60) if workflow_id else None
        ok = view is not None and view.outcome == "approved"
        detail = "invoice CPD-30460 matched and approved for payment (1,336.00), as inv-clean.json is"
        outcome = (view.outcome or "?") if view else "not started"
        self._row("810-cascadia-invoice.edi (intake)", workflow_id or "-", outcome, detail, ok)
        again = await self._take("810-cascadia-invoice.edi")
        self._row("the same 810 again", again.duplicate_of or "-", "duplicate" if again.duplicate_of else "taken",
                  "the same bytes: a duplicate of the first intake, not paid twice", again.duplicate_of is not None and
                  not again.records)  # fmt: skip

    async def _catalog(self) -> None:
        partner = Partner.model_validate_json((self.examples / "partners" / "lakeshoremed.json").read_text())
        await asyncio.to_thread(self.store.intake.put_partner, partner)
        taken = await self._take("832-lakeshore-catalog.edi")
        record = taken.records[0] if taken.records else None
        task = await ops.open_exception(self.client, record.workflow_id) if record and record.workflow_id else None
        ok = task is not None and task.team == "contracting" and task.evidence.get("catalog_price") == "61.10"
        detail = (f"ITM-1001 at 61.10 a CS against 59.25 in CTR-2026-0112: a task for {task.team}; the contract is "
                  "not changed") if task else "no task was opened"  # fmt: skip
        self._row("832-lakeshore-catalog.edi (intake)", record.workflow_id if record and record.workflow_id else "-",
                  "task" if task else "no task", detail, ok)  # fmt: skip

    async def _inbox_refusal(self) -> None:
        inbox = self.settings.resolved_intake_inbox
        inbox.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.examples / "edi" / "bad-envelope.edi", inbox / "bad-envelope.edi")
        await self.client.get_schedule_handle("intake-inbox").trigger()
        reason = inbox.parent / "rejected" / "bad-envelope.edi.reason.json"

        async def refused() -> bool:
            return reason.exists()

        ok = bool(await _eventually(refused))
        detail = ("IEA control number differs from the ISA's: refused as a whole with a TA1, moved to rejected/ "
                  "with its reason; nothing started")  # fmt: skip
        self._row("bad-envelope.edi (inbox)", "intake-inbox", "rejected" if ok else "not refused", detail, ok)

    async def _csv(self) -> None:
        taken = await self._take("legacy-vendor-requests.csv", folder="files")
        outcomes = {r.key: r for r in taken.records}
        views = {}
        for key in ("VM-300101", "VM-300102", "VM-300103"):
            record = outcomes.get(key)
            if record is not None and record.workflow_id:
                views[key] = await ops.wait_until_settled(self.client, self.settings, record.workflow_id, 60)
        dead = outcomes.get("VM-300104")
        onboarded = [views[k].outcome if k in views else None for k in ("VM-300101", "VM-300102", "VM-300103")]
        named = dead is not None and (dead.reason or "").startswith("line 5: legal_name")
        ok = onboarded == ["onboarded", "onboarded", "rejected"] and named
        letter = f"{dead.dead_letter_id}: {dead.reason}" if dead else "?"
        detail = ("VM-300101 and VM-300102 onboarded; VM-300103 rejected (bank_account.routing_number); "
                  f"VM-300104 dead letter {letter}")  # fmt: skip
        first = views["VM-300101"].workflow_id if "VM-300101" in views else "-"
        outcome = f"{len(views)} onboardings, {taken.dead_letters} dead letter"
        self._row("legacy-vendor-requests.csv (intake)", first, outcome, detail, ok)
