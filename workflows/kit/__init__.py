"""The workflow kit: the few pieces every SupplyBridge workflow is built from.

- `calls`: run an activity by method reference (`call(ProcurementActivities.create_po_in_erp, ...)`),
  as a local activity for short calls, with the platform's timeouts and retry policies.
- `board`: what operators see in the Temporal UI: the Stage, Team, Decision and Outcome search
  attributes, with one meaning of team (who owns the run's next step; None: nobody).
- `events`: business events published with one event-id scheme.
- `compensation`: the undo stack run in reverse when a process fails or is cancelled.
- `decisions`: the one human-decision mechanism (`DecisionGate`) and the one wait with an SLA
  and an escalation (`wait_with_sla`).

Workflow modules import these inside `workflow.unsafe.imports_passed_through()` like any other
module; none of them does I/O.
"""
