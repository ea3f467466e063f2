"""File intake in the store (store/intake.py) on SQLite and PostgreSQL, and the in-memory fake
(tests/support/intake_fakes.py) held to the same checks: a file is taken once, an interchange
control number once per partner, a dead letter once per record and resolved once, partners are
unique by ISA sender, outbound control numbers never repeat, and the seed partner is there."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from adapters.intake_store import IntakeStorePort
from domain.intake import (
    DeadLetterStatus,
    FileKind,
    IntakeDeadLetter,
    IntakeRecord,
    IntakeResult,
    IntakeSource,
    Partner,
    RecordOutcome,
)
from store import Store, migrate
from store.db import make_engine
from store.intake import SEED_PARTNERS
from store.migrator import alembic_config
from tests.examples import example_json
from tests.store.conftest import _empty_public_schema
from tests.support.intake_fakes import FakeIntakeStore

X12 = b"ISA*00*          *00*          *ZZ*CASCADIAPHARM  *ZZ*MERCYHEALTH    *261218*1200*U*00401*000004103*0*P*>~"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "fake"])
def intake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The store's IntakeRecords on a fresh database (as tests/store/conftest.py makes them), or the fake."""
    if request.param == "fake":
        yield FakeIntakeStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state' / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database_url")
        _empty_public_schema(url)
    with Store(url) as store:
        yield store.intake


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def letter(position: str = "ISA 000004103 / GS 4103 / ST 0001 (segment 3)", **changes: Any) -> IntakeDeadLetter:
    fields: dict[str, Any] = {"file_id": sha(X12), "file_name": "810.edi", "kind": "x12:810", "position": position,
                              "partner_id": "CASCADIAPHARM", "key": "CPD-30460", "reason": "unknown PO PO-1",
                              "raw": "ST*810*0001~BIG*...~SE*3*0001~", "details": {"po_number": "PO-1"}}  # fmt: skip
    return IntakeDeadLetter(**{**fields, **changes})


def lakeshore(**changes: Any) -> Partner:
    return Partner.model_validate({**example_json("partners/lakeshoremed.json"), **changes})


def ports(store: Store, fake: FakeIntakeStore) -> tuple[IntakeStorePort, IntakeStorePort]:
    """Never called: mypy checks here that both have the port's methods with its signatures."""
    return store.intake, fake


def test_both_implement_the_port(intake: IntakeStorePort) -> None:
    port_methods = {name for name in vars(IntakeStorePort) if not name.startswith("_")}
    assert port_methods and all(callable(getattr(intake, name)) for name in port_methods)


def test_the_same_bytes_are_taken_once_and_kept_with_their_result(intake: Any) -> None:
    file_id = sha(X12)
    assert intake.save_file(file_id, "810.edi", IntakeSource.CLI, X12) is True
    assert intake.save_file(file_id, "again.edi", IntakeSource.API, X12) is False
    assert intake.file_bytes(file_id) == X12
    assert intake.file_result(file_id) is None and intake.get_file(file_id).status == "received"

    record = IntakeRecord(position="ST 0001", kind="x12:810", key="CPD-30460", outcome=RecordOutcome.STARTED,
                          workflow_id="invoice-SUP-0003-CPD-30460")  # fmt: skip
    result = IntakeResult(file_id=file_id, name="810.edi", kind=FileKind.X12, records=[record],
                          acknowledgements=["000000001"])  # fmt: skip
    intake.finish_file(result)
    assert intake.file_result(file_id) == result
    kept = intake.get_file(file_id)
    assert (kept.name, kept.source, kept.size, kept.status) == ("810.edi", IntakeSource.CLI, len(X12), "processed")
    assert kept.received_at.tzinfo is not None and kept.finished_at >= kept.received_at

    intake.finish_file(result.model_copy(update={"refused": "TA1: IEA control number differs"}))
    assert intake.get_file(file_id).status == "refused"


def test_a_file_id_that_is_not_the_bytes_hash_and_unknown_files_are_refused(intake: Any) -> None:
    with pytest.raises(ValueError, match="file_id"):
        intake.save_file("0" * 64, "810.edi", IntakeSource.CLI, X12)
    with pytest.raises(LookupError, match="file_id"):
        intake.file_bytes("0" * 64)
    with pytest.raises(LookupError, match="file_id"):
        intake.finish_file(IntakeResult(file_id="0" * 64, name="x", kind=FileKind.CSV))
    assert intake.file_result("0" * 64) is None and intake.get_file("0" * 64) is None


def test_an_interchange_control_number_is_claimed_once_per_partner(intake: Any) -> None:
    assert intake.claim_interchange("CASCADIAPHARM", "000004103", "file-a") is None
    assert intake.claim_interchange("CASCADIAPHARM", "000004103", "file-a") is None  # a retried activity
    assert intake.claim_interchange("CASCADIAPHARM", "000004103", "file-b") == "file-a"
    assert intake.claim_interchange("LAKESHOREMED", "000004103", "file-b") is None
    assert intake.claim_interchange("CASCADIAPHARM", "000004104", "file-b") is None


def test_the_seed_partner_is_there_and_agrees_with_the_example_file(intake: Any) -> None:
    assert intake.list_partners() == list(SEED_PARTNERS)
    seeded = intake.get_partner("CASCADIAPHARM")
    assert seeded == Partner.model_validate(example_json("partners/cascadiapharm.json"))
    assert (seeded.supplier_id, seeded.isa_id, seeded.edi_only) == ("SUP-0003", "CASCADIAPHARM", True)
    assert intake.partner_by_sender("ZZ", "CASCADIAPHARM  ") == seeded  # ISA06 as it comes, padded
    assert intake.partner_for_supplier("SUP-0003") == seeded
    assert intake.partner_by_sender("01", "CASCADIAPHARM") is None and intake.partner_for_supplier("SUP-0001") is None


def test_partners_are_added_replaced_and_unique_by_isa_sender(intake: Any) -> None:
    added = intake.put_partner(lakeshore(isa_id="LAKESHOREMED   "))
    assert added.isa_id == "LAKESHOREMED" and intake.get_partner("LAKESHOREMED") == added
    assert [p.partner_id for p in intake.list_partners()] == ["CASCADIAPHARM", "LAKESHOREMED"]
    assert intake.partner_by_sender("ZZ", "LAKESHOREMED") == added

    renamed = intake.put_partner(lakeshore(name="Lakeshore Medical", isa_id="LAKESHORE2"))
    assert intake.get_partner("LAKESHOREMED") == renamed and intake.partner_by_sender("ZZ", "LAKESHOREMED") is None
    with pytest.raises(ValueError, match=r"isa_id: ZZ/CASCADIAPHARM is the sender of partner CASCADIAPHARM"):
        intake.put_partner(lakeshore(isa_id="CASCADIAPHARM"))
    assert intake.get_partner("LAKESHOREMED") == renamed
    assert intake.put_partner(lakeshore(isa_qualifier="01", isa_id="CASCADIAPHARM")).isa_qualifier == "01"


def test_a_dead_letter_is_kept_once_per_record_and_listed_oldest_first(intake: Any) -> None:
    first = intake.add_dead_letter(letter())
    assert first.id is not None and first.status is DeadLetterStatus.OPEN and first.created_at is not None
    assert intake.add_dead_letter(letter(reason="a retry says it again")) == first
    second = intake.add_dead_letter(letter(position="line 5", kind="csv:vendor_request", key=None, partner_id=None))
    assert second.id != first.id and intake.get_dead_letter(second.id) == second
    assert intake.get_dead_letter(first.id) == first and first.details == {"po_number": "PO-1"}

    assert [d.id for d in intake.list_dead_letters()] == [first.id, second.id]
    assert [d.id for d in intake.list_dead_letters(limit=1, offset=1)] == [second.id]
    assert intake.list_dead_letters(DeadLetterStatus.REPLAYED) == [] and intake.get_dead_letter(999_999) is None
    with pytest.raises(ValueError, match="limit"):
        intake.list_dead_letters(limit=0)


def test_long_names_are_cut_to_fit_and_stay_one_record(intake: Any) -> None:
    long = letter(position="p" * 600, file_name="f" * 300, key="k" * 300)
    kept = intake.add_dead_letter(long)
    assert (len(kept.position), len(kept.file_name), len(kept.key)) == (500, 255, 255)
    assert intake.add_dead_letter(long).id == kept.id


def test_a_dead_letter_is_resolved_once(intake: Any) -> None:
    kept = intake.add_dead_letter(letter())
    discarded = intake.resolve_dead_letter(kept.id, DeadLetterStatus.DISCARDED, "ana", "sent twice by the partner")
    assert (discarded.status, discarded.resolved_by, discarded.resolution) == (
        DeadLetterStatus.DISCARDED, "ana", "sent twice by the partner"
    )  # fmt: skip
    assert discarded.resolved_at is not None and intake.get_dead_letter(kept.id) == discarded
    assert intake.list_dead_letters(DeadLetterStatus.OPEN) == []
    assert intake.list_dead_letters(DeadLetterStatus.DISCARDED) == [discarded]
    with pytest.raises(ValueError, match=r"status: dead letter \d+ is already discarded \(by ana\)"):
        intake.resolve_dead_letter(kept.id, DeadLetterStatus.REPLAYED, "bo", "replayed")
    with pytest.raises(ValueError, match="status"):
        intake.resolve_dead_letter(kept.id, DeadLetterStatus.OPEN, "bo", "reopen")
    with pytest.raises(LookupError, match="no such dead letter"):
        intake.resolve_dead_letter(999_999, DeadLetterStatus.DISCARDED, "bo", "gone")


def test_edi_messages_are_kept_once_and_control_numbers_never_repeat(intake: Any) -> None:
    ack = "ISA*...~ST*997*0001~AK1*IN*4103~AK9*A*1*1*1~SE*4*0001~"
    first = intake.record_edi_message("out", "CASCADIAPHARM", "997", "000000001", ack, related="4103")
    assert intake.record_edi_message("out", "CASCADIAPHARM", "997", "000000001", ack, related="4103") == first
    other = intake.record_edi_message("in", "CASCADIAPHARM", "997", "000000001", ack)
    assert other != first
    with pytest.raises(ValueError, match="direction"):
        intake.record_edi_message("sideways", None, "997", "1", ack)
    sent = intake.edi_messages(direction="out")
    assert [(m.id, m.kind, m.related, m.text) for m in sent] == [(first, "997", "4103", ack)]
    assert [m.id for m in intake.edi_messages(related="4103")] == [first]
    assert intake.edi_messages(related="4104") == []

    assert [intake.next_control_number("CASCADIAPHARM") for _ in range(3)] == [1, 2, 3]
    assert intake.next_control_number("LAKESHOREMED") == 1


def test_concurrent_senders_never_get_the_same_control_number(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda _: store.intake.next_control_number("CASCADIAPHARM"), range(40)))
    assert sorted(numbers) == list(range(1, 41))


def test_the_result_json_is_what_the_api_and_cli_print(store: Store) -> None:
    file_id = sha(X12)
    store.intake.save_file(file_id, "810.edi", IntakeSource.INBOX, X12)
    store.intake.finish_file(IntakeResult(file_id=file_id, name="810.edi", kind=FileKind.X12, duplicate_of="abc"))
    found = store.intake.get_file(file_id)
    assert found is not None and found.status == "duplicate"
    assert json.loads(found.model_dump_json())["result"]["duplicate_of"] == "abc"


def test_migration_0005_goes_down_and_up_again_with_the_seed_once(database_url: str) -> None:
    migrate(database_url)
    command.downgrade(alembic_config(database_url), "0004")
    engine = make_engine(database_url)
    try:
        assert not {"intake_files", "trading_partners", "intake_dead_letters"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    with Store(database_url) as store:
        assert store.intake.list_partners() == list(SEED_PARTNERS)
