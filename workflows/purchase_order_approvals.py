"""The decisions a purchase order may need before it is released: a contract exception
(contracting), prices above the contract (pricing), and a value above the approval thresholds
(purchasing). Each goes through the one decision mechanism (`_decide`, workflows/kit/decisions.py);
a refusal rejects the PO before anything is ordered."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.decisions import DecisionKind, ExceptionAction, decision_team
    from domain.po_models import PoRejectionKind, ProcurementTerms
    from domain.po_rules import PoAssessment, value_over_thresholds
    from domain.validation import ValidationIssue
    from workflows.purchase_order_messages import PurchaseOrderMessages
    from workflows.purchase_order_state import Rejected


class PurchaseOrderApprovals(PurchaseOrderMessages):
    async def _decide_exceptions(self, terms: ProcurementTerms, assessment: PoAssessment) -> bool:
        """A contract exception (contracting) or prices above the contract (pricing) wait for a
        person; True when a decision was taken."""
        if assessment.contract_issues:
            await self._contract_exception(terms, assessment)
            return True
        if assessment.above_contract:
            await self._pricing_approval(assessment)
            return True
        return False

    async def _purchase_approval(self) -> bool:
        """An order above the value thresholds waits for purchasing; True when it was decided."""
        over = value_over_thresholds(self._po, self._policy)
        if not over or not workflow.patched("purchase-approval"):  # runs recorded before it had none
            return False
        summary = "; ".join(issue.reason for issue in over)
        evidence = {"total": str(self._po.total), "over": [issue.model_dump(mode="json") for issue in over]}
        decision = await self._decide(DecisionKind.PURCHASE_APPROVAL, summary, evidence=evidence)
        if decision.action is ExceptionAction.REJECT:
            reasons = [*over, ValidationIssue(field="lines", reason=f"rejected by purchasing: {decision.reason}")]
            raise Rejected(PoRejectionKind.APPROVAL_REJECTED, reasons, decision_team(DecisionKind.PURCHASE_APPROVAL))
        return True

    async def _contract_exception(self, terms: ProcurementTerms, assessment: PoAssessment) -> None:
        issues = assessment.contract_issues
        evidence = {
            "issues": [issue.model_dump(mode="json") for issue in issues],
            "contract": terms.contract.model_dump(mode="json") if terms.contract else None,
            "order_date": self._progress.order_date.isoformat() if self._progress.order_date else None,
        }
        summary = "; ".join(issue.reason for issue in issues)
        decision = await self._decide(DecisionKind.CONTRACT_EXCEPTION, summary, evidence=evidence)
        if decision.action is ExceptionAction.REJECT:
            reasons = [*issues, ValidationIssue(field="contract_ref", reason=decision.reason)]
            raise Rejected(PoRejectionKind.CONTRACT_REJECTED, reasons, decision_team(DecisionKind.CONTRACT_EXCEPTION))

    async def _pricing_approval(self, assessment: PoAssessment) -> None:
        lines = assessment.above_contract
        summary = "; ".join(
            f"line {a.line} {a.item_id}: {a.po_price} per {a.uom} is above the contract price {a.contract_price}"
            for a in lines
        )
        evidence = {
            "contract_id": self._po.contract_ref,
            "lines_above_contract": [a.model_dump(mode="json") for a in lines],
        }
        decision = await self._decide(DecisionKind.PRICING_APPROVAL, summary, evidence=evidence)
        if decision.action is ExceptionAction.REJECT:
            reasons = [
                ValidationIssue(
                    field=f"lines.{self._index(a.line)}.unit_price",
                    reason=f"above the contract price {a.contract_price}; rejected: {decision.reason}",
                )
                for a in lines
            ]
            raise Rejected(PoRejectionKind.PRICING_REJECTED, reasons, decision_team(DecisionKind.PRICING_APPROVAL))
