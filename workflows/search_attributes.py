"""Search attributes our workflows set, so operators can filter runs in the Temporal UI
(`SupplyBridgeStage = "awaiting_review" AND SupplyBridgeTeam = "vendor-master-data"`).
They never carry tax ids, bank numbers or personal names."""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("SupplyBridgeStage")
TEAM = SearchAttributeKey.for_keyword("SupplyBridgeTeam")
OUTCOME = SearchAttributeKey.for_keyword("SupplyBridgeOutcome")

ALL_KEYS = (STAGE, TEAM, OUTCOME)
# name -> type, as `temporal server start-dev --search-attribute NAME=TYPE` wants them
REGISTRATION = {key.name: "Keyword" for key in ALL_KEYS}
