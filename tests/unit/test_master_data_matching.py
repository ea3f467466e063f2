"""Matching records across systems: cross-reference first, then a unique key; doubtful groups are
rejected with their reason and never merged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.master_data.matching import Link, SystemRecord, match_records
from domain.master_data.policy import MasterSystem

VM, ERP, CON = MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP, MasterSystem.CONTRACTS


def rec(system: MasterSystem, local_id: str, tax_id: str | None = None) -> SystemRecord:
    return SystemRecord(system, local_id, {}, {"tax_id": tax_id} if tax_id else {})


def groups_of(matches: object) -> list[set[tuple[MasterSystem, str]]]:
    return sorted(({(s, r.local_id) for s, r in g.items()} for g in matches.groups), key=sorted)  # type: ignore[attr-defined]


def test_the_cross_reference_links_first_and_a_tax_id_links_the_rest() -> None:
    records = [rec(VM, "VM-1", "54-1187733"), rec(ERP, "SUP-0001", "541187733"), rec(CON, "C-9", None),
               rec(VM, "VM-2", "11-1111111"), rec(ERP, "SUP-0002", None)]  # fmt: skip
    links = [Link((VM, "VM-1"), (CON, "C-9")), Link((VM, "VM-2"), (ERP, "SUP-0002"))]
    matches = match_records(records, links, ["tax_id"])
    assert groups_of(matches) == [
        {(VM, "VM-1"), (ERP, "SUP-0001"), (CON, "C-9")},
        {(VM, "VM-2"), (ERP, "SUP-0002")},
    ]
    assert matches.new_links == [Link((ERP, "SUP-0001"), (VM, "VM-1"))]
    assert matches.rejected == []


def test_a_tax_id_two_records_of_one_system_share_links_neither() -> None:
    records = [rec(VM, "VM-1", "54-1187733"), rec(ERP, "SUP-0001", "541187733"), rec(ERP, "SUP-0009", "541187733")]
    matches = match_records(records, [], ["tax_id"])
    assert len(matches.groups) == 3
    assert matches.ambiguous_keys[0].reason == "tax_id shared by 2 erp records"
    assert matches.new_links == []


def test_a_group_with_two_records_of_one_system_is_rejected_not_merged() -> None:
    records = [rec(VM, "VM-1"), rec(ERP, "SUP-0001"), rec(ERP, "SUP-0002")]
    links = [Link((VM, "VM-1"), (ERP, "SUP-0001")), Link((VM, "VM-1"), (ERP, "SUP-0002"))]
    matches = match_records(records, links, ["tax_id"])
    assert matches.groups == []
    assert matches.rejected[0].reason == "more than one record in erp"


def test_links_to_records_that_no_longer_exist_are_ignored() -> None:
    matches = match_records([rec(VM, "VM-1")], [Link((VM, "VM-1"), (ERP, "SUP-GONE"))], ["tax_id"])
    assert groups_of(matches) == [{(VM, "VM-1")}]


@given(st.lists(st.tuples(st.sampled_from([VM, ERP, CON]), st.integers(0, 6), st.sampled_from(["", "1", "2", "3"]))))
def test_every_record_is_in_exactly_one_group_or_one_rejection(raw: list[tuple[MasterSystem, int, str]]) -> None:
    records = list({(s, str(i)): rec(s, str(i), key or None) for s, i, key in raw}.values())
    matches = match_records(records, [], ["tax_id"])
    placed = [(s, r.local_id) for g in matches.groups for s, r in g.items()]
    placed += [key for rejected in matches.rejected for key in rejected.records]
    assert sorted(placed) == sorted((r.system, r.local_id) for r in records)


def test_a_record_that_names_its_twin_in_another_system_is_linked_to_it() -> None:
    erp = SystemRecord(ERP, "SUP-0001", {}, {}, links=((VM, "VM-1"),))
    matches = match_records([rec(VM, "VM-1"), erp], [], ["tax_id"])
    assert groups_of(matches) == [{(VM, "VM-1"), (ERP, "SUP-0001")}]
    assert matches.new_links == []
