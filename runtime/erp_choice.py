"""Which ERP the worker drives (`SUPPLYBRIDGE_ERP`): the sandbox's `/erp` over REST, or Tryton
over JSON-RPC (adapters/tryton/). Both sit behind the same two ports (adapters/erp.py,
adapters/erp_procurement.py), proved by one contract suite (tests/contracts/), and give the ERP's
master data to the master-data sync (`MasterDataPort`) and the alerts' reachability probe of the
ERP (the sandbox's `/erp` client itself, or a cheap Tryton call).

With Tryton, `SUPPLYBRIDGE_TRYTON_FAULTS` puts a `FaultyTransport` under the JSON-RPC client, so
an operator (or a test) can rehearse lost answers and outages against a real ERP.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from adapters.erp import ErpPort
from adapters.erp_http import HttpErp
from adapters.erp_procurement import ErpProcurementPort
from adapters.erp_procurement_http import HttpErpProcurement
from adapters.fault_transport import FaultyTransport, parse_faults
from adapters.http import SystemClient
from adapters.master_data import MasterDataPort
from adapters.master_data_http import HttpErpMaster
from adapters.tryton.probe import TrytonProbe
from adapters.tryton.rpc import TrytonRpc
from runtime.settings import Settings


@dataclass(frozen=True)
class ErpAdapters:
    erp: ErpPort
    procurement: ErpProcurementPort
    master: MasterDataPort
    probe: SystemClient | TrytonProbe  # an activities.alerts `ProbeTarget`


def tryton_rpc(settings: Settings) -> TrytonRpc:
    """A JSON-RPC session with the configured Tryton (faults injected when configured)."""
    transport = FaultyTransport(parse_faults(settings.tryton_faults)) if settings.tryton_faults else None
    return TrytonRpc(
        settings.resolved_tryton_url,
        settings.tryton_database,
        user=settings.tryton_user,
        password=settings.tryton_password.get_secret_value(),
        timeout=max(settings.http_timeout_seconds, 30.0),
        transport=transport,
    )


@contextlib.asynccontextmanager
async def erp_adapters(settings: Settings, sandbox_erp: SystemClient) -> AsyncIterator[ErpAdapters]:
    """The ERP ports over the chosen ERP; the Tryton session is closed after."""
    if settings.erp == "sandbox":
        yield ErpAdapters(
            erp=HttpErp(sandbox_erp),
            procurement=HttpErpProcurement(sandbox_erp),
            master=HttpErpMaster(sandbox_erp),
            probe=sandbox_erp,
        )
        return
    from adapters.tryton.master_data import TrytonErpMaster
    from adapters.tryton.procurement import TrytonProcurement
    from adapters.tryton.suppliers import TrytonErp

    async with tryton_rpc(settings) as rpc:
        yield ErpAdapters(
            erp=TrytonErp(rpc), procurement=TrytonProcurement(rpc), master=TrytonErpMaster(rpc), probe=TrytonProbe(rpc)
        )
