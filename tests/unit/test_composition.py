"""The composition root: workflows may import the activity classes (they call activities by method
reference) because those load no I/O; `worker.build_activities` registers every activity a
workflow refers to, each under its own name; the real wiring and the tests' share that root."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

from activities.alerts import TemporalRuns
from activities.event_relay import RelayConfig
from adapters.replenishment_events_temporal import TemporalReplenishmentEvents
from adapters.status_events_temporal import TemporalStatusEvents
from domain.intake import EdiIdentity
from domain.master_data.policy import default_policy
from runtime.settings import Settings
from starter.operations.intake_dispatch import TemporalIntakeDispatch
from tests.support.alert_fakes import FakeAlertStore
from tests.support.event_fakes import EmptyOutbox
from tests.support.fakes import FakeContracts, FakeErp, FakeScreening, FakeStore, FakeVendorManagement
from tests.support.intake_fakes import FakeIntakeStore
from tests.support.kpi_traffic import unused_report_ports
from tests.support.master_data_fakes import FakeSyncRecords, master_systems
from tests.support.procurement_fakes import FakeAp, FakeInventory, FakeProcurementErp, FakeVendorChannel
from worker import activity_functions, activity_objects, build_activities

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_SOURCES = sorted((ROOT / "workflows").rglob("*.py"))
PROCESS_MODULES = ("onboarding", "purchase_order", "invoice", "status_sync", "master_data_sync", "master_data_conflict",
                   "replenishment", "replenishment_scan", "intake", "event_relay", "alerts", "kpi_report")  # fmt: skip
# Loading any of these would put network or database code into the workflow sandbox's imports.
IO_MODULES = ("httpx", "sqlalchemy", "store", "adapters.http")


def test_activity_and_workflow_modules_load_no_io_code() -> None:
    modules = [
        "activities.onboarding",
        "activities.procurement",
        "activities.status_sync",
        "activities.events",
        "activities.master_data",
        "activities.replenishment",
        "activities.intake",
        "activities.event_relay",
        "activities.alerts",
        "activities.reports",
        *(f"workflows.{name}" for name in PROCESS_MODULES),
    ]
    script = (
        f"import sys, {', '.join(modules)}\n"
        f"io = {IO_MODULES!r}\n"
        "loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in io)"
        " or (m.startswith('adapters.') and m.endswith('_http')))\n"
        "print('\\n'.join(loaded))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == []


def fake_activities() -> list[object]:
    return build_activities(
        erp=FakeErp(),
        screening=FakeScreening(),
        contracts=FakeContracts(),
        vendor_management=FakeVendorManagement(),
        procurement=FakeProcurementErp(),
        inventory=FakeInventory(),
        vendor_channel=FakeVendorChannel(),
        accounts_payable=FakeAp(),
        store=FakeStore(),
        master_data=list(master_systems().values()),
        syncs=FakeSyncRecords(),
        policy=default_policy(),
        status_events=TemporalStatusEvents(),
        replenishments=TemporalReplenishmentEvents(),
        intake=FakeIntakeStore(),
        intake_dispatch=TemporalIntakeDispatch(Settings(environment="development")),
        ours=EdiIdentity(),
        outbox=EmptyOutbox(),
        sinks={},
        relay=RelayConfig(source="urn:supplybridge:test"),
        alerts=FakeAlertStore(),
        runs=TemporalRuns(),
        probes=[],
        reports=unused_report_ports(),
    )


def registered(objects: list[object]) -> dict[str, tuple[str, str]]:
    """Activity name -> (class, method) of every registered activity."""
    names = [fn.__temporal_activity_definition.name for fn in activity_functions(*objects)]
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    assert duplicates == [], f"activity names registered more than once: {duplicates}"
    return {
        fn.__temporal_activity_definition.name: (type(fn.__self__).__name__, fn.__name__)
        for fn in activity_functions(*objects)
    }


def activity_references(source: Path) -> set[tuple[str, str]]:
    """Every `<Something>Activities.<method>` in a workflow module."""
    tree = ast.parse(source.read_text(), filename=str(source))
    return {
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id.endswith("Activities")
    }


def imports_activities(source: Path) -> bool:
    tree = ast.parse(source.read_text(), filename=str(source))
    return any(
        isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "activities"
        for node in ast.walk(tree)
    )


def test_activity_names_are_unique() -> None:
    assert registered(fake_activities())


def test_every_activity_a_workflow_refers_to_is_registered_by_the_worker() -> None:
    methods = set(registered(fake_activities()).values())
    with_activities = [source for source in WORKFLOW_SOURCES if imports_activities(source)]
    assert {f"{name}.py" for name in PROCESS_MODULES} <= {source.name for source in with_activities}
    for source in with_activities:
        references = activity_references(source)
        module = source.relative_to(ROOT)
        assert references, f"{module} imports activities but calls none by method reference"
        missing = sorted(f"{cls}.{method}" for cls, method in references - methods)
        assert missing == [], f"{module} refers to activities the worker does not register: {missing}"


async def test_the_worker_and_the_tests_wire_the_same_activities(tmp_path: Path) -> None:
    settings = Settings(environment="development", state_dir=tmp_path)
    async with activity_objects(settings) as real:
        assert [type(obj) for obj in real] == [type(obj) for obj in fake_activities()]
        assert registered(real) == registered(fake_activities())
