"""What the CLI, the demo and the API do with Temporal: start processes (starts.py), tell running
ones what happened and deliver decisions (messages.py), read their state (runs.py). Every call
goes through the workflows' own methods (processes.py)."""

from starter.operations.messages import (
    UPDATE_WAIT_SECONDS,
    StillApplying,
    cancel_purchase_order,
    deliver_acknowledgement,
    deliver_receipt,
    list_exceptions,
    open_exception,
    record_receipt,
    resolve_exception,
)
from starter.operations.runs import (
    SETTLED_STAGES,
    DecisionRefused,
    RunView,
    UnknownRun,
    describe_run,
    ended_run_message,
    resolve_run_id,
    run_input,
    settle,
    started_view,
    wait_until_settled,
)
from starter.operations.starts import (
    AlreadyProcessed,
    ConflictingSubmission,
    deliver_status_event,
    po_policy,
    start_invoice,
    start_onboarding,
    start_purchase_order,
)

__all__ = [
    "SETTLED_STAGES",
    "UPDATE_WAIT_SECONDS",
    "AlreadyProcessed",
    "ConflictingSubmission",
    "DecisionRefused",
    "RunView",
    "StillApplying",
    "UnknownRun",
    "cancel_purchase_order",
    "deliver_acknowledgement",
    "deliver_receipt",
    "deliver_status_event",
    "describe_run",
    "ended_run_message",
    "list_exceptions",
    "open_exception",
    "po_policy",
    "record_receipt",
    "resolve_exception",
    "resolve_run_id",
    "run_input",
    "settle",
    "start_invoice",
    "start_onboarding",
    "start_purchase_order",
    "started_view",
    "wait_until_settled",
]
