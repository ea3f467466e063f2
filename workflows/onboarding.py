"""Supplier onboarding: validate -> screen -> match -> (human review) -> create or link in the
ERP -> link contracts -> cross-reference -> publish `supplier.onboarded`.

A failure after the ERP create is compensated in reverse order (cross-reference removed,
supplier deactivated) before the workflow fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.duplicates import MatchKind, MatchVerdict, classify_match
    from domain.events import BusinessEvent, CrossReference
    from domain.onboarding import (
        COMPLIANCE_TEAM,
        VENDOR_MASTER_ESCALATION_TEAM,
        VENDOR_MASTER_TEAM,
        ContractLinkStatus,
        CreateErpSupplierInput,
        CreateErpSupplierResult,
        CrossReferenceResult,
        DeactivateErpSupplierInput,
        ErpMatchInput,
        ErpMatchResult,
        ErpSupplierState,
        ExclusionScreeningInput,
        ExclusionScreeningResult,
        LinkContractsInput,
        LinkContractsResult,
        LinkExistingSupplierInput,
        LinkExistingSupplierResult,
        OnboardingOutcome,
        OnboardingResult,
        OnboardingStage,
        OnboardingStatus,
        OnboardSupplierInput,
        PublishEventInput,
        PublishEventResult,
        RecordCrossReferenceInput,
        RejectionKind,
        RemoveCrossReferenceInput,
        ReviewAction,
        ReviewDecision,
        TinMatch,
        TinMatchInput,
    )
    from domain.procurement import ACTIONS_FOR, DecisionKind, OpenException
    from domain.supplier import erp_draft_from_request, sites_from_request
    from domain.validation import ValidationIssue, validate_onboarding_request
    from workflows import search_attributes as sa
    from workflows.common import COMPENSATION_DEADLINE, call, root_cause


@workflow.defn(name="SupplierOnboarding")
class SupplierOnboardingWorkflow:
    def __init__(self) -> None:
        self._stage = OnboardingStage.RECEIVED
        self._team: str | None = None
        self._escalation_level = 0
        self._review_due_at: datetime | None = None
        self._review_raised_at: datetime | None = None
        self._decision: ReviewDecision | None = None
        self._verdict: MatchVerdict | None = None
        self._vendor_id = ""
        self._outcome: OnboardingOutcome | None = None
        self._compensations: list[tuple[str, Callable[[], Awaitable[object]]]] = []

    # --- the process -------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: OnboardSupplierInput) -> OnboardingResult:
        request = params.request
        self._vendor_id = request.source.id
        wf_id = workflow.info().workflow_id

        self._set_stage(OnboardingStage.VALIDATING)
        issues = validate_onboarding_request(request, workflow.now().date())
        if issues:
            return await self._reject(RejectionKind.VALIDATION, issues)

        self._set_stage(OnboardingStage.SCREENING)
        exclusions, tin = await asyncio.gather(  # independent checks run side by side
            call(
                "screen_against_exclusions",
                ExclusionScreeningInput(
                    legal_name=request.legal_name, dba_name=request.dba_name, npi=request.identifiers.npi
                ),
                ExclusionScreeningResult,
            ),
            call("match_tin", TinMatchInput(tax_id=request.tax_id, legal_name=request.legal_name), TinMatch),
        )
        if exclusions.matches:
            best = exclusions.matches[0]
            reason = (
                f"matches an active OIG LEIE exclusion: {best.record_name} "
                f"(type {best.exclusion_type}, excluded {best.exclusion_date}, {best.state})"
            )
            return await self._reject(
                RejectionKind.COMPLIANCE_BLOCK,
                [ValidationIssue(field=best.matched_on, reason=reason)],
                team=COMPLIANCE_TEAM,
                exclusion_matches=exclusions.matches,
                tin_match=tin,
            )
        if not tin.matched:
            return await self._reject(
                RejectionKind.TIN_MISMATCH,
                [ValidationIssue(field="tax_id.value", reason=f"IRS TIN match code {tin.code}: {tin.description}")],
                team=COMPLIANCE_TEAM,
                tin_match=tin,
            )

        self._set_stage(OnboardingStage.MATCHING)
        matches = await call(
            "find_erp_matches",
            ErpMatchInput(tax_id=request.tax_id, legal_name=request.legal_name),
            ErpMatchResult,
        )
        self._verdict = classify_match(request.legal_name, matches.candidates)

        if self._verdict.kind is MatchKind.POSSIBLE_DUPLICATE:
            decision = await self._await_review(params.review_sla)
            if decision.action is ReviewAction.REJECT:
                return await self._reject(
                    RejectionKind.REVIEW_REJECTED,
                    [ValidationIssue(field="legal_name", reason=f"rejected in review: {decision.reason}")],
                    tin_match=tin,
                )

        try:
            result = await self._create_or_link(params, tin, wf_id)
        except Exception as error:
            await self._compensate()
            self._set_stage(OnboardingStage.FAILED)
            raise ApplicationError(
                f"onboarding failed and was compensated: {root_cause(error)}",
                type="onboarding_failed",
                non_retryable=True,
            ) from error
        self._finish(result.outcome)
        return result

    async def _create_or_link(self, params: OnboardSupplierInput, tin: TinMatch, wf_id: str) -> OnboardingResult:
        request = params.request
        assert self._verdict is not None
        warnings: list[str] = []
        site_ids: list[str] = []
        bank_account_id: str | None = None
        if self._verdict.kind is MatchKind.SAME_SUPPLIER and self._verdict.erp_supplier_id:
            self._set_stage(OnboardingStage.LINKING)
            linked = await call(
                "link_existing_supplier",
                LinkExistingSupplierInput(
                    erp_supplier_id=self._verdict.erp_supplier_id,
                    request=request,
                    idempotency_key=f"{wf_id}:link-existing-supplier",
                ),
                LinkExistingSupplierResult,
            )
            erp_id, outcome = linked.erp_supplier_id, OnboardingOutcome.LINKED
            warnings.extend(linked.warnings)
        else:
            self._set_stage(OnboardingStage.CREATING_IN_ERP)
            # Registered before the call: a create that fails half-way is found by its vendor id.
            created_id: list[str | None] = [None]
            self._compensations.append(
                (
                    "deactivate_erp_supplier",
                    lambda: call(
                        "deactivate_erp_supplier",
                        DeactivateErpSupplierInput(
                            erp_supplier_id=created_id[0],
                            vendor_id=request.source.id,
                            reason=f"onboarding {wf_id} failed; compensated",
                            idempotency_key=f"{wf_id}:compensate-deactivate",
                        ),
                        ErpSupplierState,
                        schedule_to_close=COMPENSATION_DEADLINE,
                    ),
                )
            )
            created = await call(
                "create_supplier_in_erp",
                CreateErpSupplierInput(
                    draft=erp_draft_from_request(request),
                    sites=sites_from_request(request),
                    bank_account=request.bank_account,
                    idempotency_prefix=wf_id,
                ),
                CreateErpSupplierResult,
                start_to_close=timedelta(seconds=60),
            )
            created_id[0] = created.erp_supplier_id
            erp_id, outcome = created.erp_supplier_id, OnboardingOutcome.ONBOARDED
            site_ids, bank_account_id = created.site_ids, created.bank_account_id

        self._set_stage(OnboardingStage.LINKING)
        links = LinkContractsResult(links=[])
        if request.contract_refs:
            links = await call(
                "link_contract_references",
                LinkContractsInput(
                    erp_supplier_id=erp_id, contract_refs=request.contract_refs, idempotency_prefix=wf_id
                ),
                LinkContractsResult,
            )
            warnings.extend(
                f"contract {link.contract_id}: {link.status.value.replace('_', ' ')}"
                for link in links.links
                if link.status is not ContractLinkStatus.LINKED
            )

        reference = CrossReference(
            entity="supplier",
            source_system=request.source.system,
            source_id=request.source.id,
            target_system="erp",
            target_id=erp_id,
            workflow_id=wf_id,
        )
        self._compensations.append(
            (
                "remove_cross_reference",
                lambda: call(
                    "remove_cross_reference",
                    RemoveCrossReferenceInput(reference=reference),
                    CrossReferenceResult,
                    schedule_to_close=COMPENSATION_DEADLINE,
                ),
            )
        )
        await call("record_cross_reference", RecordCrossReferenceInput(reference=reference), CrossReferenceResult)

        self._set_stage(OnboardingStage.PUBLISHING)
        await self._publish(
            "supplier.onboarded",
            {"erp_supplier_id": erp_id, "outcome": outcome.value, "vendor_id": request.source.id},
        )
        return OnboardingResult(
            workflow_id=wf_id,
            vendor_id=self._vendor_id,
            outcome=outcome,
            erp_supplier_id=erp_id,
            site_ids=site_ids,
            bank_account_id=bank_account_id,
            tin_match=tin,
            duplicate_candidates=self._verdict.candidates,
            review=self._decision,
            escalation_level=self._escalation_level,
            contract_links=links.links,
            warnings=warnings,
        )

    # --- human review ------------------------------------------------------------------------

    async def _await_review(self, sla: timedelta) -> ReviewDecision:
        self._set_stage(OnboardingStage.AWAITING_REVIEW, team=VENDOR_MASTER_TEAM)
        self._review_raised_at = workflow.now()
        self._review_due_at = workflow.now() + sla
        in_inbox = workflow.patched("review-in-task-inbox")  # runs recorded before replay unchanged
        if in_inbox:
            workflow.upsert_search_attributes([sa.DECISION.value_set(DecisionKind.SUPPLIER_REVIEW.value)])
        await self._publish("supplier.review_requested", {"team": VENDOR_MASTER_TEAM, "vendor_id": self._vendor_id})
        try:
            await workflow.wait_condition(lambda: self._decision is not None, timeout=sla)
        except TimeoutError:
            self._escalation_level = 1
            self._set_stage(OnboardingStage.AWAITING_REVIEW, team=VENDOR_MASTER_ESCALATION_TEAM)
            await self._publish(
                "supplier.review_escalated",
                {
                    "team": VENDOR_MASTER_ESCALATION_TEAM,
                    "vendor_id": self._vendor_id,
                    "sla_hours": sla / timedelta(hours=1),
                },
            )
            await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        if in_inbox:
            workflow.upsert_search_attributes([sa.DECISION.value_unset()])
        return self._decision

    @workflow.update(name="decide_review")
    async def decide_review(self, decision: ReviewDecision) -> OnboardingStatus:
        self._decision = decision
        return self.status()

    @decide_review.validator
    def _validate_decision(self, decision: ReviewDecision) -> None:
        if self._stage is not OnboardingStage.AWAITING_REVIEW:
            raise ValueError(f"this onboarding is not awaiting a review decision (stage: {self._stage.value})")
        if self._decision is not None:
            raise ValueError(f"a decision was already taken: {self._decision.action.value}")

    @workflow.query(name="status")
    def status(self) -> OnboardingStatus:
        return OnboardingStatus(
            workflow_id=workflow.info().workflow_id,
            vendor_id=self._vendor_id,
            stage=self._stage,
            assigned_team=self._team,
            escalation_level=self._escalation_level,
            review_due_at=self._review_due_at,
            duplicate_candidates=self._verdict.candidates if self._verdict else [],
            outcome=self._outcome,
            open_exception=self._review_task(),
        )

    def _review_task(self) -> OpenException | None:
        if self._stage is not OnboardingStage.AWAITING_REVIEW or self._decision is not None:
            return None
        assert self._review_raised_at is not None and self._review_due_at is not None
        candidates = self._verdict.candidates if self._verdict else []
        similar = ", ".join(f"{c.erp_supplier_id} {c.legal_name} ({c.score:.0f})" for c in candidates[:3])
        return OpenException(
            exception_id=workflow.info().workflow_id,
            kind=DecisionKind.SUPPLIER_REVIEW,
            team=self._team or VENDOR_MASTER_TEAM,
            summary=f"possible duplicate of {similar}: approve to create a new supplier, reject to close",
            raised_at=self._review_raised_at,
            due_at=self._review_due_at,
            escalation_level=self._escalation_level,
            record=self._vendor_id,
            supplier_id=self._vendor_id,
            evidence={"duplicate_candidates": [c.model_dump(mode="json") for c in candidates]},
            allowed_actions=list(ACTIONS_FOR[DecisionKind.SUPPLIER_REVIEW]),
        )

    # --- helpers -----------------------------------------------------------------------------

    async def _reject(
        self,
        kind: RejectionKind,
        reasons: list[ValidationIssue],
        *,
        team: str | None = None,
        **details: object,
    ) -> OnboardingResult:
        self._team = team
        self._finish(OnboardingOutcome.REJECTED)
        await self._publish(
            "supplier.onboarding_rejected",
            {"vendor_id": self._vendor_id, "kind": kind.value, "fields": [r.field for r in reasons]},
        )
        return OnboardingResult(
            workflow_id=workflow.info().workflow_id,
            vendor_id=self._vendor_id,
            outcome=OnboardingOutcome.REJECTED,
            rejection_kind=kind,
            reasons=reasons,
            review=self._decision,
            escalation_level=self._escalation_level,
            duplicate_candidates=self._verdict.candidates if self._verdict else [],
            **details,
        )

    async def _compensate(self) -> None:
        self._set_stage(OnboardingStage.COMPENSATING)
        for name, compensation in reversed(self._compensations):
            try:
                await compensation()
            except Exception as error:  # keep compensating the rest; the failure is in history
                workflow.logger.error("compensation %s failed: %s", name, error)
        self._compensations.clear()

    async def _publish(self, event_type: str, data: dict[str, object]) -> None:
        info = workflow.info()
        event = BusinessEvent(
            event_id=f"{info.workflow_id}:{info.run_id}:{event_type}:{self._escalation_level}",
            type=event_type,
            subject=self._vendor_id,
            workflow_id=info.workflow_id,
            occurred_at=workflow.now(),
            data=data,
        )
        await call("publish_event", PublishEventInput(event=event), PublishEventResult)

    def _set_stage(self, stage: OnboardingStage, *, team: str | None = None) -> None:
        self._stage = stage
        if team is not None:
            self._team = team
        updates = [sa.STAGE.value_set(stage.value)]
        if self._team:
            updates.append(sa.TEAM.value_set(self._team))
        workflow.upsert_search_attributes(updates)

    def _finish(self, outcome: OnboardingOutcome) -> None:
        self._outcome = outcome
        self._set_stage(OnboardingStage.COMPLETED)
        workflow.upsert_search_attributes([sa.OUTCOME.value_set(outcome.value)])
