"""What a purchase-order workflow started as a child tells its parent: `PurchaseOrderParent` is
the signal a parent workflow (the replenishment) takes, declared here so the PO can signal it by
method without importing the parent's module (which imports the PO's)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.replenishment_models import PoProgressNotice


class PurchaseOrderParent:
    @workflow.signal(name="purchase_order_progress")
    def purchase_order_progress(self, notice: PoProgressNotice) -> None:
        """The child PO moved on: its event, stage, and whether every line is received."""
        raise NotImplementedError


async def tell_parent(notice: PoProgressNotice) -> None:
    """Signal the run's parent, when it has one (POs started by people have none: nothing is
    sent, so their command sequence is as it always was). A parent that is gone is not an error
    of the PO's."""
    parent = workflow.info().parent
    if parent is None:
        return
    handle = workflow.get_external_workflow_handle(parent.workflow_id, run_id=parent.run_id)
    try:
        await handle.signal(PurchaseOrderParent.purchase_order_progress, notice)
    except Exception as error:
        workflow.logger.warning("could not tell parent %s: %s", parent.workflow_id, error)
