"""Sandbox-wide controls: health, fault injection and reset. Never faulted; /health never
needs the token (so orchestrators can probe it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.db import SandboxDatabase
from sandbox.errors import SandboxError
from sandbox.faults import FaultRegistry, FaultSettings
from sandbox.seed import seed_database
from sandbox.synthetic import SyntheticReport, SyntheticSpec, generate

router = APIRouter()


def _faults(request: Request) -> FaultRegistry:
    registry: FaultRegistry = request.app.state.faults
    return registry


def _known_system(registry: FaultRegistry, system: str) -> str:
    if system not in registry.systems:
        raise SandboxError(404, "not_found", f"unknown system {system}; known: {', '.join(registry.systems)}")
    return system


@router.get("/health", tags=["admin"])
async def health(request: Request) -> dict[str, Any]:
    """On the event loop, touching no database: it answers even while every worker thread is busy."""
    return {"status": "ok", "systems": [system.name for system in request.app.state.systems]}


@router.get("/admin/faults", tags=["admin"])
def list_faults(request: Request) -> dict[str, Any]:
    return {system: settings.model_dump() for system, settings in _faults(request).snapshot().items()}


@router.put("/admin/faults/{system}", tags=["admin"])
def set_faults(request: Request, system: str, settings: FaultSettings) -> dict[str, Any]:
    registry = _faults(request)
    registry.set(_known_system(registry, system), settings)
    return {"system": system, **settings.model_dump()}


@router.delete("/admin/faults", tags=["admin"])
def clear_all_faults(request: Request) -> dict[str, Any]:
    _faults(request).clear()
    return list_faults(request)


@router.delete("/admin/faults/{system}", tags=["admin"])
def clear_faults(request: Request, system: str) -> dict[str, Any]:
    registry = _faults(request)
    registry.clear(_known_system(registry, system))
    return {"system": system, **registry.get(system).model_dump()}


@router.post("/admin/reset", tags=["admin"])
def reset(request: Request) -> dict[str, Any]:
    """Delete every record (suppliers, events, idempotency keys, ...) and seed again.
    Fault settings and the webhook target are kept."""
    database: SandboxDatabase = request.app.state.database
    seed_database(database, request.app.state.systems, request.app.state.config.seed_dir, reset=True)
    return {"status": "reset", "systems": [system.name for system in request.app.state.systems]}


@router.post("/admin/synthetic", tags=["admin"])
def synthetic(request: Request, spec: SyntheticSpec) -> SyntheticReport:
    """Reset to the seed, then add `spec.suppliers` synthetic suppliers with a known share of
    drift; answers which suppliers drifted and how (the same spec gives the same answer)."""
    database: SandboxDatabase = request.app.state.database
    seed_database(database, request.app.state.systems, request.app.state.config.seed_dir, reset=True)
    with database.sessionmaker() as session:
        report = generate(session, spec)
        session.commit()
    return report
