"""Search attributes our workflows set, so operators can filter runs in the Temporal UI
(`SupplyBridgeStage = "awaiting_review" AND SupplyBridgeTeam = "vendor-master-data"`,
`SupplyBridgeDecision = "invoice_exception" AND SupplyBridgeTeam = "pricing"`).
They never carry tax ids, bank numbers or personal names."""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("SupplyBridgeStage")
TEAM = SearchAttributeKey.for_keyword("SupplyBridgeTeam")
OUTCOME = SearchAttributeKey.for_keyword("SupplyBridgeOutcome")
SUPPLIER = SearchAttributeKey.for_keyword("SupplyBridgeSupplier")
DECISION = SearchAttributeKey.for_keyword("SupplyBridgeDecision")
"""The kind of decision a person owes the run (pricing_approval, contract_exception,
invoice_exception); unset when none is pending."""

ALL_KEYS = (STAGE, TEAM, OUTCOME, SUPPLIER, DECISION)
# name -> type, as `temporal server start-dev --search-attribute NAME=TYPE` wants them
REGISTRATION = {key.name: "Keyword" for key in ALL_KEYS}
