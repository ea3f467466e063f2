"""The event catalog (domain/event_catalog.py) against what the platform really publishes, and
the JSON Schemas of its CloudEvents against events built as the relay builds them.

- Every event type published in workflows/ is catalogued, and every catalogued type is published
  (`subscription.test` aside). The types are read from the sources' syntax tree: each `publish(`
  and `_publish(` call's type argument, followed through conditionals, local variables and the
  parameters of helpers (`_to_accounts_payable`) to the literals; `f"{task.kind}.decided"` is
  expanded to the review-task kinds the code opens (`ReviewTaskInput(kind=DecisionKind.X.value)`).
  A type argument the scan cannot follow fails the test, naming the line. Where the data is a
  dict literal, its fields must be the model's (and carry the team, for an event that asks a
  team to act: a team channel receives it only then).
- schemas/events/ is what `python -m starter.event_schemas` writes.
- CloudEvents built by domain.cloud_events from sample data of every type (tests/unit/
  event_samples.py) validate against the type's schema; one with the wrong type, a missing
  required data field or a bad attribute does not.
"""

from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from domain.cloud_events import cloud_event, structured
from domain.decisions import DecisionKind
from domain.event_catalog import EVENT_TYPES, UnknownEventType, catalog_index, cloud_event_schema, data_schema
from domain.events import BusinessEvent
from domain.subscriptions import TEAM_EVENT_SUFFIXES, routed_team
from starter import event_schemas
from tests.unit.event_samples import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("activities", "adapters", "domain", "runtime", "starter", "workflows")
TYPE_ARGUMENT = {"publish": 1, "_publish": 0}  # EventPublisher.publish(subject, type, data); _publish(type, data)
NOT_FROM_WORKFLOWS = {"subscription.test"}  # sent by `subscriptions test` / POST .../test, never stored
BASE = "https://schemas.test/events"
TEAM_KEYS = ("team", "escalated_to", "assigned_team")  # what domain.subscriptions.routed_team reads
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


for _name in ("date", "regex"):
    FORMATS.checkers[_name] = Draft202012Validator.FORMAT_CHECKER.checkers[_name]


# --- what the workflows publish ------------------------------------------------------------------


@dataclass
class Scan:
    types: set[str] = field(default_factory=set)
    dynamic: dict[str, list[str]] = field(default_factory=dict)  # f-string suffix -> where
    unresolved: list[str] = field(default_factory=list)
    data_keys: dict[str, list[set[str | None]]] = field(default_factory=dict)  # literal type -> its data's keys


@dataclass(frozen=True)
class Module:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    @classmethod
    def read(cls, path: Path) -> Module:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return cls(path, tree, {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)})

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _calls(modules: list[Module], name: str) -> list[tuple[Module, ast.Call]]:
    return [
        (m, node) for m in modules for node in ast.walk(m.tree) if isinstance(node, ast.Call) and _called(node) == name
    ]


def _resolve(expr: ast.expr | None, module: Module, modules: list[Module], scan: Scan, depth: int = 0) -> None:
    where = module.where(expr) if expr is not None else module.where(module.tree)
    if expr is None or depth > 5:
        scan.unresolved.append(where)
    elif isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        scan.types.add(expr.value)
    elif isinstance(expr, ast.IfExp):
        _resolve(expr.body, module, modules, scan, depth + 1)
        _resolve(expr.orelse, module, modules, scan, depth + 1)
    elif isinstance(expr, ast.JoinedStr) and isinstance(last := expr.values[-1], ast.Constant):
        scan.dynamic.setdefault(str(last.value), []).append(where)
    elif isinstance(expr, ast.Name) and (function := module.function_of(expr)) is not None:
        parameters = [a.arg for a in (*function.args.posonlyargs, *function.args.args) if a.arg != "self"]
        if expr.id in parameters:
            if function.name in TYPE_ARGUMENT:
                return  # a `_publish` wrapper: the calls to it are read themselves
            callers = _calls(modules, function.name)
            for caller_module, call in callers:
                _resolve(_argument(call, parameters.index(expr.id), expr.id), caller_module, modules, scan, depth + 1)
            if not callers:
                scan.unresolved.append(where)
            return
        assigned = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
        ]
        for value in assigned:
            _resolve(value, module, modules, scan, depth + 1)
        if not assigned:
            scan.unresolved.append(where)
    else:
        scan.unresolved.append(where)


@functools.cache
def published() -> Scan:
    workflows = [Module.read(path) for path in sorted((ROOT / "workflows").rglob("*.py"))]
    scan = Scan()
    for name, index in TYPE_ARGUMENT.items():
        for module, call in _calls(workflows, name):
            event_type = _argument(call, index, "event_type")
            _resolve(event_type, module, workflows, scan)
            data = _argument(call, index + 1, "data")
            if isinstance(event_type, ast.Constant) and isinstance(data, ast.Dict):
                keys = {str(key.value) if isinstance(key, ast.Constant) else None for key in data.keys}
                scan.data_keys.setdefault(str(event_type.value), []).append(keys)
    return scan


@functools.cache
def review_task_kinds() -> tuple[set[str], list[str]]:
    """The kinds every `ReviewTaskInput(kind=DecisionKind.X.value, ...)` in the sources opens."""
    modules = [Module.read(path) for package in SOURCE_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    kinds: set[str] = set()
    unresolved = []
    for module, call in _calls(modules, "ReviewTaskInput"):
        match next((keyword.value for keyword in call.keywords if keyword.arg == "kind"), None):
            case ast.Attribute(value=ast.Attribute(value=ast.Name(id="DecisionKind"), attr=member), attr="value"):
                kinds.add(DecisionKind[member].value)
            case _:
                unresolved.append(module.where(call))
    return kinds, unresolved


def published_types() -> set[str]:
    scan = published()
    kinds, _ = review_task_kinds()
    return scan.types | {f"{kind}.decided" for kind in kinds}


def test_the_scan_follows_every_published_type_to_its_literals() -> None:
    scan = published()
    _, unresolved = review_task_kinds()
    assert not scan.unresolved, f"cannot tell which event type is published at {scan.unresolved}: use literals"
    assert not unresolved, f"cannot tell the kind of the review task opened at {unresolved}"
    assert set(scan.dynamic) <= {".decided"}, f"teach this test the types of the f-strings at {scan.dynamic}"
    # a literal, a conditional, a helper's parameter and the review tasks' kinds are all found
    assert {"supplier.onboarded", "supplier.status_change_unmatched", "purchase_order.invoice_overdue"} <= scan.types
    assert {"compliance_review.decided", "functional_ack_overdue.decided"} <= published_types()


def test_every_published_event_type_is_in_the_catalog() -> None:
    missing = published_types() - set(EVENT_TYPES)
    assert not missing, f"add these event types to domain/event_catalog.py (and run {event_schemas.COMMAND}): {missing}"


def test_every_catalogued_event_type_is_published() -> None:
    stale = set(EVENT_TYPES) - published_types() - NOT_FROM_WORKFLOWS
    assert not stale, f"no workflow publishes these any more; remove them from domain/event_catalog.py: {stale}"
    assert set(EVENT_TYPES) >= NOT_FROM_WORKFLOWS
    assert "never stored" in EVENT_TYPES["subscription.test"].description


# --- the files -------------------------------------------------------------------------------------


def test_the_schema_files_are_what_the_catalog_gives() -> None:
    stale = event_schemas.differences()
    assert not stale, f"schemas/events/ is out of date ({stale}): run {event_schemas.COMMAND}"


def test_writing_the_schemas_adds_changes_and_removes_files(tmp_path: Path) -> None:
    (tmp_path / "supplier.retired.json").write_text("{}\n")
    (tmp_path / "invoice.approved.json").write_text("{}\n")
    touched = event_schemas.write(tmp_path)
    assert {"supplier.retired.json", "invoice.approved.json", "index.json"} <= set(touched)
    assert not (tmp_path / "supplier.retired.json").exists()
    assert event_schemas.differences(tmp_path) == [] and event_schemas.write(tmp_path) == []
    assert event_schemas.main(["--check", "--directory", str(tmp_path)]) == 0
    (tmp_path / "invoice.approved.json").write_text("{}\n")
    assert event_schemas.main(["--check", "--directory", str(tmp_path)]) == 1
    index = json.loads((tmp_path / "index.json").read_text())
    assert [entry["type"] for entry in index["types"]] == sorted(EVENT_TYPES)
    assert index["types"][0]["schema_url"] == f"{event_schemas.SCHEMA_BASE}/{index['types'][0]['type']}"


# --- the schemas against events ------------------------------------------------------------------


def test_every_type_has_samples_and_a_valid_schema() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    for name in EVENT_TYPES:
        schema = cloud_event_schema(name, schema_base=BASE + "/")
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"{BASE}/{name}"
        assert schema["properties"]["type"] == {"const": f"org.supplybridge.{name}"}
        assert schema["properties"]["data"]["required"], f"{name}: the data of an event has fields it always carries"
    assert [entry.type for entry in catalog_index(BASE).types] == sorted(EVENT_TYPES)
    with pytest.raises(UnknownEventType):
        data_schema("supplier.retired")


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(cloud_event_schema(name, schema_base=BASE), format_checker=FORMATS)


def event_of(
    name: str, data: dict[str, Any], *, workflow_id: str | None = "supplier-onboarding-VM-1"
) -> dict[str, Any]:
    """The event as a receiver reads it: built, masked and written as the relay does."""
    event = BusinessEvent(
        event_id=f"{workflow_id}:run-1:3:{name}",
        type=name,
        subject="VM-10442",
        workflow_id=workflow_id,
        occurred_at=datetime(2026, 3, 2, 14, 5, 9, 120000, tzinfo=UTC),
        data=data,
    )
    written = structured(cloud_event(event, source="urn:supplybridge:platform", sequence=1042, schema_base=BASE))
    parsed: dict[str, Any] = json.loads(written)
    return parsed


def errors(name: str, event: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(event)]


SAMPLED = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@SAMPLED
@given(data=st.data())
def test_events_of_every_type_validate_against_its_schema(name: str, data: st.DataObject) -> None:
    sample = data.draw(SAMPLES[name], label="data")
    event = event_of(name, sample, workflow_id=data.draw(st.sampled_from([None, "replenishment-CS-01-GLV-1"])))
    assert errors(name, event) == []
    assert event["dataschema"] == validator(name).schema["$id"] + "/data"
    assert Draft202012Validator(data_schema(name)).is_valid(event["data"])  # standalone, with its own $defs
    event["data"]["a_field_added_later"] = {"tax_id": "541187733"}
    assert errors(name, event_of(name, event["data"])) == [], "a newer field must not make the schema reject it"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_an_event_with_a_wrong_type_or_a_missing_data_field_is_refused(name: str, data: st.DataObject) -> None:
    event = event_of(name, data.draw(SAMPLES[name], label="data"))
    other = next(other for other in sorted(EVENT_TYPES) if other != name)
    assert errors(name, {**event, "type": f"org.supplybridge.{other}"})
    assert errors(name, {**event, "type": name})  # without the prefix
    for required in validator(name).schema["properties"]["data"]["required"]:
        missing = {key: value for key, value in event["data"].items() if key != required}
        assert errors(name, {**event, "data": missing}), f"{name} without {required} must be refused"


def test_the_attributes_are_checked() -> None:
    event = event_of("invoice.approved", {"po_number": "PO-2026-000451", "invoice_number": "INV-88", "amount": "90.50"})
    assert errors("invoice.approved", event) == []
    for attribute, wrong in [
        ("specversion", "0.3"),
        ("sequence", "12a"),
        ("sequence", 12),
        ("time", "yesterday"),
        ("datacontenttype", "text/plain"),
        ("subject", ""),
    ]:
        assert errors("invoice.approved", {**event, attribute: wrong}), f"{attribute}={wrong!r} must be refused"
    for attribute in ("id", "source", "subject", "time", "sequence", "data"):
        assert errors("invoice.approved", {k: v for k, v in event.items() if k != attribute}), attribute
    assert errors("invoice.approved", {**event, "data": {**event["data"], "amount": 90.5}}), "a decimal is a string"


def test_masked_values_validate_where_a_sensitive_key_can_appear() -> None:
    drifted = {"erp": {"legal_name": 2, "bank_account": 1}, "vendor_management": {"tax_id": 12345}}
    event = event_of("master_data.drifted", {"sync_id": "sync-1", "entity": "suppliers", "drifted": drifted})
    assert event["data"]["drifted"] == {
        "erp": {"legal_name": 2, "bank_account": "••••"},
        "vendor_management": {"tax_id": "•••2345"},
    }
    assert errors("master_data.drifted", event) == []
    unmasked = {**event, "data": {**event["data"], "drifted": {"erp": {"legal_name": "two"}}}}
    assert errors("master_data.drifted", unmasked), "only a masked value may stand for a count"


TEAM_TYPES = sorted(name for name in EVENT_TYPES if name.endswith(TEAM_EVENT_SUFFIXES))


@pytest.mark.parametrize("name", TEAM_TYPES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_an_event_that_asks_a_team_to_act_names_the_team(name: str, data: st.DataObject) -> None:
    required = data_schema(name)["required"]
    assert any(key in required for key in TEAM_KEYS), f"{name} must always carry one of {TEAM_KEYS}"
    sample = data.draw(SAMPLES[name], label="data")
    event = BusinessEvent(event_id="e-1", type=name, subject="s", occurred_at=datetime.now(UTC), data=sample)
    assert routed_team(event)


def test_every_publish_of_an_event_that_asks_a_team_to_act_names_the_team() -> None:
    """What the workflows put in (a team channel receives an event only when it names a team)."""
    published_keys = published().data_keys
    for name in TEAM_TYPES:
        for keys in published_keys.get(name, []):
            assert keys & set(TEAM_KEYS), f"a publish of {name} in workflows/ puts none of {TEAM_KEYS} in its data"
    assert {"purchase_order.acknowledgement_overdue", "replenishment.sourcing_exception"} <= set(published_keys)


WRAPPER_FIELDS = {"supplier_id", "po_number", "invoice_number", "location_id", "item_id"}  # what `_publish` adds


def test_the_catalog_describes_the_fields_the_workflows_put_in() -> None:
    """For every event published with a dict literal: each of its fields is in the type's model,
    and each field the model requires is in it (or added by the workflow's `_publish`)."""
    checked = 0
    for name, published_keys in published().data_keys.items():
        model = EVENT_TYPES[name].data
        required = {key for key, info in model.model_fields.items() if info.is_required()}
        for keys in published_keys:
            assert keys - {None} <= set(model.model_fields), f"{name}: describe {keys - set(model.model_fields)}"
            assert None in keys or required <= keys | WRAPPER_FIELDS, f"{name} may lack {required - keys}"
            checked += 1
    assert checked >= 20
