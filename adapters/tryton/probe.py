"""`TrytonProbe`: the alerts' reachability probe of the ERP when the ERP is Tryton
(activities/alerts.py `probe`, which wants a `ProbeTarget`: a `system` and `request(method, path)`).

The probe's `GET /` becomes one cheap authenticated call (`res.user.search_count`), so it proves
what the adapters need: trytond answers, the database is there and our login is accepted. Its
failures are `TrytonRpc`'s, which are those `SystemClient` raises for the sandbox: unreachable,
timed out, 5xx/429 or a busy database are `TransientError`; a refused login is
`AuthenticationError`; any other error is an answer (`BusinessRuleError`), as a 404 is over HTTP.
"""

from __future__ import annotations

from typing import Any

from adapters.tryton.rpc import SYSTEM, TrytonRpc


class TrytonProbe:
    system = SYSTEM

    def __init__(self, rpc: TrytonRpc) -> None:
        self._rpc = rpc

    async def request(self, method: str, path: str) -> Any:
        """Whatever is asked, the same cheap read (the probe only asks `GET /`)."""
        return await self._rpc.call("res.user", "search_count", [])
