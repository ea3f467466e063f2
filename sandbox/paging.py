"""limit/offset paging shared by every listing endpoint.

A limit above `MAX_LIMIT` is refused (422 `limit_too_large`) rather than silently clamped, so a
client that believes it got everything in one page finds out at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from sandbox.db import Documents
from sandbox.errors import SandboxError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int
    offset: int

    def page_of(self, docs: Documents, kind: str) -> dict[str, Any]:
        """A page of every document of `kind` (no filter), paged in SQL."""
        window, total = docs.window(kind, self.offset, self.limit)
        return {
            "items": window,
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "has_more": self.offset + len(window) < total,
        }

    def page(self, items: Sequence[Any]) -> dict[str, Any]:
        window = list(items[self.offset : self.offset + self.limit])
        return {
            "items": window,
            "total": len(items),
            "limit": self.limit,
            "offset": self.offset,
            "has_more": self.offset + len(window) < len(items),
        }


def _page_request(
    limit: Annotated[int, Query(ge=1)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PageRequest:
    if limit > MAX_LIMIT:
        raise SandboxError(422, "limit_too_large", f"query.limit: must be at most {MAX_LIMIT}")
    return PageRequest(limit=limit, offset=offset)


Paging = Annotated[PageRequest, Depends(_page_request)]
