"""`HttpScreening`: `ScreeningPort` (adapters/screening.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from adapters.http import SystemClient
from adapters.screening import TinMatchResult
from domain.exclusions import ExclusionRecord
from domain.supplier import TaxIdKind


class HttpScreening:
    """`ScreeningPort` over the screening service (the sandbox's `/screening`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def list_exclusions(self) -> list[ExclusionRecord]:
        return [ExclusionRecord.model_validate(row) async for row in self._client.paginate("/exclusions")]

    async def match_tin(self, tin: str, tin_kind: TaxIdKind, name: str) -> TinMatchResult:
        body = await self._client.request(
            "POST", "/tin-match", json={"tin": tin, "tin_type": TaxIdKind(tin_kind).value, "name": name}
        )
        return TinMatchResult.model_validate(body)
