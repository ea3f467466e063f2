"""Screening port: the OIG LEIE exclusion list and an IRS-style TIN match."""

from __future__ import annotations

from typing import Protocol

from domain.base import DomainModel
from domain.exclusions import ExclusionRecord
from domain.supplier import TaxIdKind


class TinMatchResult(DomainModel):
    """IRS TIN matching response code 0-8 (0, 6, 7, 8 are matches)."""

    code: int
    description: str

    @property
    def matched(self) -> bool:
        return self.code in (0, 6, 7, 8)


class ScreeningPort(Protocol):
    async def list_exclusions(self) -> list[ExclusionRecord]:
        """The whole exclusion list (paged through)."""
        ...

    async def match_tin(self, tin: str, tin_kind: TaxIdKind, name: str) -> TinMatchResult: ...
