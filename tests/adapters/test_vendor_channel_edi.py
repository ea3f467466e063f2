"""The vendor channel's EDI endpoint against the real sandbox through `HttpVendorChannel.send_edi`:
an 850 is stored and answered with a 997 our reader and 997 mapping read; a rejected group; the
997 we send is only stored; the delayed 855 a configured partner drops into its inbox; retries
store once; refusals name the field. Also the timer behind the 855s and the fake vendor channel's
EDI contract."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.errors import BusinessRuleError
from adapters.http import SystemClient
from adapters.vendor_channel_http import HttpVendorChannel
from domain.reference import Item
from domain.x12.context import MappingContext, ReferenceData
from domain.x12.functional_ack import AckStatus, FunctionalAckReceived
from domain.x12.map_855 import map_855
from domain.x12.map_997 import map_997
from domain.x12.model import Interchange
from domain.x12.reader import read_interchanges
from sandbox.delayed_calls import DelayedCalls
from sandbox.seed import DEFAULT_SEED_DIR, load_json
from tests.support.procurement_fakes import FakeVendorChannel
from tests.support.sandbox import RunningSandbox

PARTNER = "CASCADIAPHARM"
PO_NUMBER = "PO-2026-000460"


def order_850(control: int = 101, *, se_count: int = 10, po_number: str = PO_NUMBER) -> str:
    """A hand-written 850 as we send it: header need-by 2026-12-20, line 2 needed by 2026-12-15."""
    segments = [
        f"ISA*00*          *00*          *ZZ*MERCYHEALTH    *ZZ*{PARTNER}  *261201*0900*U*00401*{control:09d}*0*P*>",
        f"GS*PO*MERCYHEALTH*{PARTNER}*20261201*0900*{control}*X*004010",
        "ST*850*0001",
        f"BEG*00*SA*{po_number}**20261201",
        "REF*CT*CTR-2026-0120",
        "DTM*002*20261220",
        "N1*ST*Inpatient pharmacy, St. Anne Medical Center*UL*0614141003006",
        "PO1*1*30*CA*38.40**UK*10888881004044*VP*CPD-NS1000*BP*ITM-1004",
        "PO1*2*2*CA*92.00**UK*10888881005058*VP*CPD-SY10*BP*ITM-1005",
        "DTM*002*20261215",
        "CTT*2",
        f"SE*{se_count}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "~\n".join(segments) + "~\n"


def our_997(control: int = 102) -> str:
    """The 997 we send accepting the partner's 855 group 4101."""
    segments = [
        f"ISA*00*          *00*          *ZZ*MERCYHEALTH    *ZZ*{PARTNER}  *261202*0910*U*00401*{control:09d}*0*P*>",
        f"GS*FA*MERCYHEALTH*{PARTNER}*20261202*0910*{control}*X*004010",
        "ST*997*0001",
        "AK1*PR*4101",
        "AK2*855*0001",
        "AK5*A",
        "AK9*A*1*1*1",
        "SE*6*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "~".join(segments) + "~"


@pytest.fixture
async def channel(sandbox: RunningSandbox) -> AsyncIterator[HttpVendorChannel]:
    client = SystemClient("vendor-channel", sandbox.system_url("vendor-channel"), token=sandbox.token, attempts=1)
    async with client:
        yield HttpVendorChannel(client)


def only_interchange(text: str) -> Interchange:
    interchanges = read_interchanges(text.encode())
    assert len(interchanges) == 1 and interchanges[0].ok, [i.errors for i in interchanges]
    return interchanges[0]


def read_997(text: str) -> tuple[Interchange, FunctionalAckReceived]:
    interchange = only_interchange(text)
    group = interchange.groups[0]
    transaction = group.transactions[0]
    assert (group.functional_id, transaction.code) == ("FA", "997")
    context = MappingContext.for_transaction(
        interchange, group, transaction, reference=ReferenceData(), supplier_id=None
    )
    return interchange, map_997(transaction, context)


def messages(sandbox: RunningSandbox, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return list(sandbox.admin("GET", f"/vendor-channel/edi/messages?{query}")["items"])


async def test_an_850_is_stored_and_answered_with_a_997_accepting_its_group(
    channel: HttpVendorChannel, sandbox: RunningSandbox
) -> None:
    answer = await channel.send_edi(PARTNER, order_850(), idempotency_key="send-850")
    assert answer is not None
    interchange, ack = read_997(answer)
    assert (interchange.sender_id, interchange.receiver_id) == (PARTNER, "MERCYHEALTH")  # addressed back to us
    assert (ack.functional_id, ack.group_control_number, ack.status) == ("PO", "101", AckStatus.ACCEPTED)
    assert ack.status_of("0001") is AckStatus.ACCEPTED

    listed = messages(sandbox, partner_id=PARTNER)
    assert [(m["direction"], m["kind"]) for m in listed] == [("from_partner", "997"), ("to_partner", "850")]
    sent, reply = listed[1], listed[0]
    assert sent["control_number"] == "000000101" and sent["po_numbers"] == [PO_NUMBER] and "text" not in sent
    assert reply["in_reply_to"] == sent["message_id"] and sent["acknowledgement_ids"] == [reply["message_id"]]
    stored = sandbox.admin("GET", f"/vendor-channel/edi/messages/{sent['message_id']}")
    assert stored["text"] == order_850() and stored["received_at"]
    assert sandbox.admin("GET", f"/vendor-channel/edi/messages/{reply['message_id']}")["text"] == answer
    assert [m["kind"] for m in messages(sandbox, direction="to_partner", kind="850")] == ["850"]
    assert messages(sandbox, partner_id="SOMEONE-ELSE") == []


async def test_a_group_the_reader_flags_is_rejected(channel: HttpVendorChannel) -> None:
    answer = await channel.send_edi(PARTNER, order_850(se_count=9), idempotency_key="broken-850")
    assert answer is not None
    _, ack = read_997(answer)
    assert ack.status is AckStatus.REJECTED and ack.status_of("0001") is AckStatus.REJECTED
    assert "4" in ack.transaction_sets[0].error_codes  # AK5 4: segment count wrong


async def test_the_997_we_send_is_stored_and_not_answered(channel: HttpVendorChannel, sandbox: RunningSandbox) -> None:
    assert await channel.send_edi(PARTNER, our_997(), idempotency_key="send-997") is None
    listed = messages(sandbox)
    assert [(m["direction"], m["kind"], m["control_number"]) for m in listed] == [("to_partner", "997", "000000102")]


async def test_a_configured_partner_drops_an_855_accepting_every_line(
    channel: HttpVendorChannel, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    inbox = tmp_path / "intake" / "inbox"  # not there yet: the partner creates it
    settings = {"send_855_after_seconds": 0.05, "inbox_dir": str(inbox)}
    assert sandbox.admin("PUT", f"/vendor-channel/edi/admin/partners/{PARTNER}", settings)["inbox_dir"] == str(inbox)
    await channel.send_edi(PARTNER, order_850(), idempotency_key="send-850")
    dropped = inbox / f"855-{PO_NUMBER}-1.edi"
    deadline = time.monotonic() + 5
    while not dropped.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert sorted(path.name for path in inbox.iterdir()) == [dropped.name]  # no half-written file left

    interchange = only_interchange(dropped.read_text(encoding="utf-8"))
    group, transaction = interchange.groups[0], interchange.groups[0].transactions[0]
    assert (interchange.sender_id, group.functional_id, transaction.code) == (PARTNER, "PR", "855")
    items = [Item.model_validate(item) for item in load_json(DEFAULT_SEED_DIR, "items.json")]
    context = MappingContext.for_transaction(
        interchange, group, transaction, reference=ReferenceData(items=items), supplier_id="SUP-0003"
    )
    acknowledgement = map_855(transaction, context)
    assert acknowledgement.po_number == PO_NUMBER
    assert [(line.line, line.status.value, line.quantity, line.promised_date) for line in acknowledgement.lines] == [
        (1, "accepted", Decimal(30), date(2026, 12, 20)),  # the order's need-by
        (2, "accepted", Decimal(2), date(2026, 12, 15)),  # the line's own need-by
    ]
    sent_855 = messages(sandbox, kind="855")
    assert [(m["direction"], m["file"], m["po_numbers"]) for m in sent_855] == [
        ("from_partner", str(dropped), [PO_NUMBER])
    ]

    await channel.send_edi(PARTNER, order_850(control=103), idempotency_key="send-850-again")
    second = inbox / f"855-{PO_NUMBER}-2.edi"
    deadline = time.monotonic() + 5
    while not second.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert second.exists() and only_interchange(second.read_text()).control_number != interchange.control_number


async def test_partners_answer_no_855_by_default(channel: HttpVendorChannel, sandbox: RunningSandbox) -> None:
    assert sandbox.admin("GET", f"/vendor-channel/edi/admin/partners/{PARTNER}")["send_855_after_seconds"] is None
    await channel.send_edi(PARTNER, order_850(), idempotency_key="send-850")
    sent = messages(sandbox, direction="to_partner")[0]
    assert sent.get("answer_855") is None and messages(sandbox, kind="855") == []


async def test_a_retry_stores_once_and_a_reused_control_number_is_refused(
    channel: HttpVendorChannel, sandbox: RunningSandbox
) -> None:
    first = await channel.send_edi(PARTNER, order_850(), idempotency_key="send-850")
    assert await channel.send_edi(PARTNER, order_850(), idempotency_key="send-850") == first  # replayed
    assert await channel.send_edi(PARTNER, order_850(), idempotency_key="a-new-key") == first  # same ISA13
    assert [m["direction"] for m in messages(sandbox)] == ["from_partner", "to_partner"]
    with pytest.raises(BusinessRuleError) as reused:
        await channel.send_edi(PARTNER, order_850(po_number="PO-OTHER"), idempotency_key="other")
    assert reused.value.code == "duplicate_control_number" and "ISA13" in str(reused.value)
    assert len(messages(sandbox)) == 2


def test_refusals_name_the_field(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.url}/vendor-channel/edi"
    edi = {**sandbox.headers, "Content-Type": "application/edi-x12"}

    def post(body: str, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(url, content=body.encode(), headers=headers, timeout=10)

    missing_partner = post(order_850(), edi)
    assert missing_partner.status_code == 422 and "X-Partner-Id" in missing_partner.json()["detail"]
    as_json = post(order_850(), {**edi, "Content-Type": "application/json", "X-Partner-Id": PARTNER})
    assert as_json.status_code == 415 and "Content-Type" in as_json.json()["detail"]
    not_x12 = post("hello, this is not EDI", {**edi, "X-Partner-Id": PARTNER})
    assert (not_x12.status_code, not_x12.json()["code"]) == (400, "bad_edi")
    plain_text = post(order_850(), {**edi, "Content-Type": "text/plain; charset=utf-8", "X-Partner-Id": PARTNER})
    assert plain_text.status_code == 201
    relative = httpx.put(
        f"{url}/admin/partners/{PARTNER}",
        json={"send_855_after_seconds": 1, "inbox_dir": "inbox"},
        headers=sandbox.headers,
        timeout=10,
    )
    assert relative.status_code == 422 and "inbox_dir" in relative.json()["detail"]
    nowhere = httpx.put(
        f"{url}/admin/partners/{PARTNER}", json={"send_855_after_seconds": 1}, headers=sandbox.headers, timeout=10
    )
    assert nowhere.status_code == 422 and "inbox_dir: required" in nowhere.json()["detail"]
    unknown = httpx.get(f"{url}/messages/EDI-999999", headers=sandbox.headers, timeout=10)
    assert unknown.status_code == 404


async def test_the_fake_channel_records_each_send_once_and_answers_850s_only() -> None:
    fake = FakeVendorChannel(edi_acknowledgement="ISA*canned 997~")
    assert await fake.send_edi(PARTNER, order_850(), idempotency_key="k1") == "ISA*canned 997~"
    assert await fake.send_edi(PARTNER, order_850(), idempotency_key="k1") == "ISA*canned 997~"
    assert await fake.send_edi(PARTNER, our_997(), idempotency_key="k2") is None
    assert await fake.send_edi(PARTNER, our_997(), idempotency_key="k2") is None
    assert fake.edi_sent == [(PARTNER, order_850()), (PARTNER, our_997())]
    assert await FakeVendorChannel().send_edi(PARTNER, order_850(), idempotency_key="k") is None


async def test_delayed_calls_run_once_started_and_never_after_stop() -> None:
    calls, ran = DelayedCalls("test"), []
    calls.call_later(0, lambda: ran.append("before start"))  # no app running: a no-op
    await calls.start()
    calls.call_later(0.01, lambda: ran.append("soon"))
    calls.call_later(30, lambda: ran.append("late"))
    deadline = time.monotonic() + 5
    while not ran and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await calls.stop()  # cancels "late" instead of waiting 30 s
    calls.call_later(0, lambda: ran.append("after stop"))
    await asyncio.sleep(0.05)
    assert ran == ["soon"]
