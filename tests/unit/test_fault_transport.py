"""`FaultyTransport`: faults injected before (nothing reached the system) or after (the system
did the work, the answer is lost), latency, outage; and the setting's text form."""

from __future__ import annotations

import httpx
import pytest

from adapters.fault_transport import FaultyTransport, TransportFaults, parse_faults


class Counting(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.served = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.served += 1
        return httpx.Response(200, json={"served": self.served})


async def test_an_error_after_the_request_loses_the_answer_of_work_done() -> None:
    system = Counting()
    transport = FaultyTransport(TransportFaults(error_rate=1.0, error_phase="after"), system)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        with pytest.raises(httpx.ReadError):
            await client.post("/create")
    assert system.served == 1 and transport.injected["after"] == 1


async def test_an_error_before_the_request_never_reaches_the_system() -> None:
    system = Counting()
    transport = FaultyTransport(TransportFaults(error_rate=1.0, error_phase="before"), system)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/create")
    assert system.served == 0


async def test_an_outage_refuses_every_request_and_the_faults_can_change_between_requests() -> None:
    system = Counting()
    transport = FaultyTransport(TransportFaults(outage=True), system)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/x")
        transport.faults = TransportFaults()
        assert (await client.get("/x")).json() == {"served": 1}


async def test_a_rate_injects_about_that_share_repeatably_with_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        transport = FaultyTransport(TransportFaults(error_rate=0.3), Counting(), seed=seed)
        return [transport._phase(transport.faults) is not None for _ in range(1000)]

    first = run(7)
    assert first == run(7) and 220 < sum(first) < 380


def test_the_setting_names_the_bad_key_or_value() -> None:
    assert parse_faults("error_rate=0.2, error_phase=after,latency_ms=50") == TransportFaults(
        error_rate=0.2, error_phase="after", latency_ms=50
    )
    with pytest.raises(ValueError, match="error_rate"):
        parse_faults("error_rate=2")
    with pytest.raises(ValueError, match="error_phse"):
        parse_faults("error_phse=after")
    with pytest.raises(ValueError, match="not key=value"):
        parse_faults("after")
