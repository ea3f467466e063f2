"""Supplier onboarding: validate -> screen -> match -> (human review) -> create or link in the
ERP -> link contracts -> cross-reference -> publish `supplier.onboarded`.

A possible duplicate is a `supplier_review` decision for vendor-master-data, answered through
`resolve_exception` like every decision (workflows/kit/decisions.py). A failure after the ERP
create is compensated in reverse order (cross-reference removed, supplier deactivated) before the
workflow fails.

Short system calls run as local activities; the ERP create (supplier, sites and bank account, up
to a minute) stays a regular activity. Runs recorded before these choices replay as they were
(`workflow.patched`; the old review lives in workflows/onboarding_review_v1.py).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.onboarding import OnboardingActivities
    from domain.decisions import (
        COMPLIANCE_TEAM,
        DecisionRecord,
        ExceptionAction,
    )
    from domain.duplicates import MatchKind, MatchVerdict, classify_match
    from domain.events import CrossReference
    from domain.onboarding import (
        ContractLinkStatus,
        CreateErpSupplierInput,
        DeactivateErpSupplierInput,
        ErpMatchInput,
        ExclusionScreeningInput,
        ExclusionScreeningResult,
        LinkContractsInput,
        LinkContractsResult,
        LinkExistingSupplierInput,
        OnboardingOutcome,
        OnboardingResult,
        OnboardingStage,
        OnboardingStatus,
        OnboardSupplierInput,
        RecordCrossReferenceInput,
        RejectionKind,
        RemoveCrossReferenceInput,
        TinMatch,
        TinMatchInput,
    )
    from domain.supplier import erp_draft_from_request, sites_from_request
    from domain.validation import ValidationIssue, validate_onboarding_request
    from workflows.kit.board import Board
    from workflows.kit.calls import COMPENSATION_DEADLINE, call, root_cause
    from workflows.kit.compensation import Compensations
    from workflows.kit.decisions import DecisionGate
    from workflows.kit.events import EventPublisher
    from workflows.onboarding_review import DuplicateReview


class _Rejected(Exception):
    """Ends the onboarding as rejected; `team` owns what follows (compliance), if anyone."""

    def __init__(
        self, kind: RejectionKind, reasons: list[ValidationIssue], *, team: str | None = None, **details: object
    ) -> None:
        super().__init__(kind.value)
        self.kind, self.reasons, self.team, self.details = kind, reasons, team, details


@workflow.defn(name="SupplierOnboarding")
class SupplierOnboardingWorkflow(DuplicateReview):
    @workflow.init
    def __init__(self, params: OnboardSupplierInput) -> None:
        self._request = params.request
        self._vendor_id = params.request.source.id
        self._wf_id = workflow.info().workflow_id
        self._board = Board(OnboardingStage.RECEIVED)
        self._gate = DecisionGate(self._vendor_id, self._vendor_id)
        self._undo = Compensations()
        self._local = False
        self._events = EventPublisher(local=False)
        self._verdict: MatchVerdict | None = None
        self._review: DecisionRecord | None = None
        self._outcome: OnboardingOutcome | None = None

    # --- the process -------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: OnboardSupplierInput) -> OnboardingResult:
        self._local = self._events.local = workflow.patched("onboarding-local-activities")
        try:
            tin = await self._check(params)
        except _Rejected as rejected:
            return await self._reject(rejected)
        try:
            result = await self._create_or_link(tin)
        except Exception as error:
            await self._compensate()
            self._board.fail(OnboardingStage.FAILED)
            raise ApplicationError(
                f"onboarding failed and was compensated: {root_cause(error)}",
                type="onboarding_failed",
                non_retryable=True,
            ) from error
        self._finish(result.outcome)
        return result

    async def _check(self, params: OnboardSupplierInput) -> TinMatch:
        """Validation, screening and the TIN match, then the duplicate check (and its review)."""
        self._board.set_stage(OnboardingStage.VALIDATING)
        issues = validate_onboarding_request(self._request, workflow.now().date())
        if issues:
            raise _Rejected(RejectionKind.VALIDATION, issues)
        tin = await self._screen()
        self._board.set_stage(OnboardingStage.MATCHING)
        match_input = ErpMatchInput(tax_id=self._request.tax_id, legal_name=self._request.legal_name)
        matches = await call(OnboardingActivities.find_erp_matches, match_input, local=self._local)
        self._verdict = classify_match(self._request.legal_name, matches.candidates)
        if self._verdict.kind is MatchKind.POSSIBLE_DUPLICATE:
            self._review = await self._duplicate_review(params.review_sla)
            decision = self._review.resolution
            if decision.action is ExceptionAction.REJECT:
                reason = f"rejected in review: {decision.reason}"
                raise _Rejected(
                    RejectionKind.REVIEW_REJECTED, [ValidationIssue(field="legal_name", reason=reason)], tin_match=tin
                )
        return tin

    async def _screen(self) -> TinMatch:
        """Exclusion screening and the IRS TIN match, side by side."""
        request = self._request
        self._board.set_stage(OnboardingStage.SCREENING)
        screening = ExclusionScreeningInput(
            legal_name=request.legal_name, dba_name=request.dba_name, npi=request.identifiers.npi
        )
        exclusions, tin = await asyncio.gather(
            call(OnboardingActivities.screen_against_exclusions, screening, local=self._local),
            call(
                OnboardingActivities.match_tin,
                TinMatchInput(tax_id=request.tax_id, legal_name=request.legal_name),
                local=self._local,
            ),
        )
        if exclusions.matches:
            raise _Rejected(
                RejectionKind.COMPLIANCE_BLOCK,
                [_exclusion_issue(exclusions)],
                team=COMPLIANCE_TEAM,
                exclusion_matches=exclusions.matches,
                tin_match=tin,
            )
        if not tin.matched:
            reason = f"IRS TIN match code {tin.code}: {tin.description}"
            raise _Rejected(
                RejectionKind.TIN_MISMATCH,
                [ValidationIssue(field="tax_id.value", reason=reason)],
                team=COMPLIANCE_TEAM,
                tin_match=tin,
            )
        return tin

    async def _create_or_link(self, tin: TinMatch) -> OnboardingResult:
        assert self._verdict is not None
        if self._verdict.kind is MatchKind.SAME_SUPPLIER and self._verdict.erp_supplier_id:
            result = await self._link_existing(self._verdict.erp_supplier_id)
        else:
            result = await self._create_in_erp()
        links = await self._link_contracts(result.erp_supplier_id or "")
        result.contract_links = links.links
        result.warnings.extend(
            f"contract {link.contract_id}: {link.status.value.replace('_', ' ')}"
            for link in links.links
            if link.status is not ContractLinkStatus.LINKED
        )
        await self._cross_reference(result.erp_supplier_id or "")
        self._board.set_stage(OnboardingStage.PUBLISHING)
        await self._publish(
            "supplier.onboarded",
            {"erp_supplier_id": result.erp_supplier_id, "outcome": result.outcome.value, "vendor_id": self._vendor_id},
        )
        result.tin_match = tin
        return result

    async def _link_existing(self, erp_supplier_id: str) -> OnboardingResult:
        self._board.set_stage(OnboardingStage.LINKING)
        link = LinkExistingSupplierInput(
            erp_supplier_id=erp_supplier_id,
            request=self._request,
            idempotency_key=f"{self._wf_id}:link-existing-supplier",
        )
        linked = await call(OnboardingActivities.link_existing_supplier, link, local=self._local)
        return self._result(
            OnboardingOutcome.LINKED, erp_supplier_id=linked.erp_supplier_id, warnings=list(linked.warnings)
        )

    async def _create_in_erp(self) -> OnboardingResult:
        self._board.set_stage(OnboardingStage.CREATING_IN_ERP)
        created_id: list[str | None] = [None]

        async def deactivate(reason: str) -> None:
            undo = DeactivateErpSupplierInput(
                erp_supplier_id=created_id[0],
                vendor_id=self._vendor_id,
                reason=reason,
                idempotency_key=f"{self._wf_id}:compensate-deactivate",
            )
            await call(OnboardingActivities.deactivate_erp_supplier, undo, schedule_to_close=COMPENSATION_DEADLINE)

        # pushed before the call: a create that fails half-way is found by its vendor id
        self._undo.push("deactivate_erp_supplier", deactivate)
        create = CreateErpSupplierInput(
            draft=erp_draft_from_request(self._request),
            sites=sites_from_request(self._request),
            bank_account=self._request.bank_account,
            idempotency_prefix=self._wf_id,
        )
        created = await call(OnboardingActivities.create_supplier_in_erp, create, start_to_close=timedelta(seconds=60))
        created_id[0] = created.erp_supplier_id
        return self._result(
            OnboardingOutcome.ONBOARDED,
            erp_supplier_id=created.erp_supplier_id,
            site_ids=created.site_ids,
            bank_account_id=created.bank_account_id,
        )

    async def _link_contracts(self, erp_supplier_id: str) -> LinkContractsResult:
        self._board.set_stage(OnboardingStage.LINKING)
        if not self._request.contract_refs:
            return LinkContractsResult(links=[])
        link = LinkContractsInput(
            erp_supplier_id=erp_supplier_id, contract_refs=self._request.contract_refs, idempotency_prefix=self._wf_id
        )
        return await call(OnboardingActivities.link_contract_references, link, local=self._local)

    async def _cross_reference(self, erp_supplier_id: str) -> None:
        source = self._request.source
        reference = CrossReference(
            entity="supplier",
            source_system=source.system,
            source_id=source.id,
            target_system="erp",
            target_id=erp_supplier_id,
            workflow_id=self._wf_id,
        )

        async def remove(reason: str) -> None:
            undo = RemoveCrossReferenceInput(reference=reference)
            await call(
                OnboardingActivities.remove_cross_reference,
                undo,
                schedule_to_close=COMPENSATION_DEADLINE,
                local=self._local,
            )

        self._undo.push("remove_cross_reference", remove)
        record = RecordCrossReferenceInput(reference=reference)
        await call(OnboardingActivities.record_cross_reference, record, local=self._local)

    @workflow.query(name="status")
    def status(self) -> OnboardingStatus:
        opened = self._gate.open or self._open_review_v1(*self._review_summary())
        escalation = opened.escalation_level if opened else (self._review.escalation_level if self._review else 0)
        return OnboardingStatus(
            workflow_id=self._wf_id,
            vendor_id=self._vendor_id,
            stage=self._board.stage,
            assigned_team=self._board.team,
            escalation_level=max(escalation, self._escalation_level),
            review_due_at=opened.due_at if opened else self._review_due_at,
            duplicate_candidates=self._verdict.candidates if self._verdict else [],
            outcome=self._outcome,
            open_exception=opened,
        )

    # --- endings -------------------------------------------------------------------------------

    async def _reject(self, rejected: _Rejected) -> OnboardingResult:
        self._outcome = OnboardingOutcome.REJECTED
        self._board.finish(OnboardingStage.COMPLETED, OnboardingOutcome.REJECTED, team=rejected.team)
        await self._publish(
            "supplier.onboarding_rejected",
            {"vendor_id": self._vendor_id, "kind": rejected.kind.value, "fields": [r.field for r in rejected.reasons]},
        )
        return self._result(
            OnboardingOutcome.REJECTED, rejection_kind=rejected.kind, reasons=rejected.reasons, **rejected.details
        )

    async def _compensate(self) -> None:
        self._board.set_stage(OnboardingStage.COMPENSATING)
        await self._undo.unwind(f"onboarding {self._wf_id} failed; compensated")

    async def _publish(self, event_type: str, data: dict[str, object]) -> None:
        await self._events.publish(self._vendor_id, event_type, data)

    def _finish(self, outcome: OnboardingOutcome) -> None:
        self._outcome = outcome
        self._board.finish(OnboardingStage.COMPLETED, outcome)

    def _result(self, outcome: OnboardingOutcome, **details: object) -> OnboardingResult:
        return OnboardingResult(
            workflow_id=self._wf_id,
            vendor_id=self._vendor_id,
            outcome=outcome,
            review=self._review,
            escalation_level=self._review.escalation_level if self._review else 0,
            duplicate_candidates=self._verdict.candidates if self._verdict else [],
            **details,
        )


def _exclusion_issue(exclusions: ExclusionScreeningResult) -> ValidationIssue:
    best = exclusions.matches[0]
    reason = (
        f"matches an active OIG LEIE exclusion: {best.record_name} "
        f"(type {best.exclusion_type}, excluded {best.exclusion_date}, {best.state})"
    )
    return ValidationIssue(field=best.matched_on, reason=reason)
