"""Authentication refuses malformed tokens with a 401 problem (never a 500), caps token lifetime,
and limits requests by client address before authentication (429 with a Retry-After header).
No Temporal here: every route called reads only the store."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from runtime.settings import ApiGrant, Settings
from starter.api.app import create_app
from starter.api.problems import ProblemError
from starter.api.security import issue_token, principal_from_token, sha256_hex
from starter.cli import app as cli_app
from store import Store
from tests.support.api import problem_of

SETTINGS = Settings(environment="development")


@asynccontextmanager
async def api(tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = Settings(state_dir=tmp_path, **overrides)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, store=store)
    app.state.store = store  # ASGITransport does not run the lifespan
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, settings
    finally:
        store.close()


def signed(settings: Settings, **claims: Any) -> dict[str, str]:
    now = int(time.time())
    base = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": "mallory", "scope": "audit:read",
            "iat": now, "exp": now + 600}  # fmt: skip
    body = {k: v for k, v in (base | claims).items() if v is not None}
    return {"Authorization": f"Bearer {jwt.encode(body, settings.jwt_secret.get_secret_value(), 'HS256')}"}


async def test_malformed_claims_are_401_problems_not_500(tmp_path: Path) -> None:
    async with api(tmp_path) as (client, settings):
        assert (await client.get("/v1/audit", headers=signed(settings))).status_code == 200
        for bad in ({"teams": 5}, {"teams": {"a": 1}}, {"teams": [1, 2]}, {"scope": 5}, {"scope": ["ok", 3]},
                    {"suppliers": 7}, {"systems": [None]}):  # fmt: skip
            name = next(iter(bad))
            detail = problem_of(await client.get("/v1/audit", headers=signed(settings, **bad)), 401)["detail"]
            assert name in detail, (bad, detail)
        assert (await client.get("/v1/audit", headers=signed(settings, scope=["audit:read"]))).status_code == 200


def test_a_teams_string_is_split_on_spaces_never_into_characters() -> None:
    token = signed(SETTINGS, teams="nobody*", scope="tasks:decide audit:read")["Authorization"][7:]
    principal = principal_from_token(SETTINGS, token)
    assert principal.teams == {"nobody*"} and principal.scopes == {"tasks:decide", "audit:read"}
    assert not principal.may_decide_for("pricing")
    two = principal_from_token(SETTINGS, signed(SETTINGS, teams="pricing receiving")["Authorization"][7:])
    assert two.teams == {"pricing", "receiving"}


async def test_token_lifetime_is_capped_and_times_must_be_numbers(tmp_path: Path) -> None:
    async with api(tmp_path) as (client, settings):
        now = int(time.time())
        ten_years = signed(settings, exp=now + 10 * 365 * 24 * 3600)
        assert "longer than" in problem_of(await client.get("/v1/audit", headers=ten_years), 401)["detail"]
        assert "exp" in problem_of(await client.get("/v1/audit", headers=signed(settings, exp=str(now + 600))),
                                   401)["detail"]  # fmt: skip
        assert "iat" in problem_of(await client.get("/v1/audit", headers=signed(settings, iat=None)), 401)["detail"]
        problem_of(await client.get("/v1/audit", headers=signed(settings, iat=str(now))), 401)
        problem_of(await client.get("/v1/audit", headers=signed(settings, exp=True)), 401)
        problem_of(await client.get("/v1/audit", headers={"Authorization": "Bearer not.a.jwt"}), 401)
        day = signed(settings, exp=now + settings.jwt_max_lifetime_minutes * 60)
        assert (await client.get("/v1/audit", headers=day)).status_code == 200
    with pytest.raises(ValueError, match="ttl_minutes"):
        issue_token(SETTINGS, "ana", ["audit:read"], ttl_minutes=10 * 365 * 24 * 60)


async def test_requests_are_limited_by_address_before_authentication(tmp_path: Path) -> None:
    async with api(tmp_path, address_rate_limit_per_minute=30) as (client, settings):
        statuses = []
        for i in range(40):
            headers = {"X-API-Key": f"guess-{i}"} if i % 2 else {"Authorization": f"Bearer guess-{i}"}
            statuses.append((await client.get("/v1/audit", headers=headers)).status_code)
        assert statuses[:30] == [401] * 30 and set(statuses[30:]) == {429}
        limited = await client.get("/v1/audit", headers=signed(settings))  # good credentials, same address
        body = problem_of(limited, 429)
        assert int(limited.headers["Retry-After"]) >= 1 and body["retry_after"] == int(limited.headers["Retry-After"])
        assert (await client.get("/health")).status_code == 200  # only /v1 is limited


async def test_every_429_carries_retry_after_as_a_header(tmp_path: Path) -> None:
    async with api(tmp_path, rate_limit_per_minute=1) as (client, settings):
        headers = signed(settings)
        assert (await client.get("/v1/audit", headers=headers)).status_code == 200
        limited = await client.get("/v1/audit", headers=headers)
        problem_of(limited, 429)
        assert int(limited.headers["Retry-After"]) >= 1


async def test_api_key_bindings_reach_the_principal(tmp_path: Path) -> None:
    grant = ApiGrant(subject="northgate-portal", secret_sha256=sha256_hex("k-1"), scopes=["events:write"],
                     suppliers=["SUP-0002"])  # fmt: skip
    with pytest.raises(ValueError):
        ApiGrant(subject="x", secret_sha256=sha256_hex("k"), systems=["payroll"])
    token, _ = issue_token(SETTINGS, "erp-bridge", ["events:write"], systems=["erp"], suppliers=["SUP-0001"])
    principal = principal_from_token(SETTINGS, token)
    assert principal.systems == {"erp"} and principal.suppliers == {"SUP-0001"}
    assert grant.suppliers == ["SUP-0002"]
    with pytest.raises(ProblemError):
        principal_from_token(SETTINGS, token + "x")


def cli(*args: str) -> tuple[int, str]:
    """The CLI's exit code (its commands return it; `main` exits with it) and output."""
    result = CliRunner().invoke(cli_app, list(args), standalone_mode=False)
    return int(result.return_value or 0), result.output


def test_token_issue_binds_suppliers_and_systems() -> None:
    code, output = cli("token", "issue", "--scopes", "events:write", "--supplier", "SUP-0001,SUP-0003",
                       "--system", "vendor-channel", "--json")  # fmt: skip
    assert code == 0, output
    out = json.loads(output)
    assert out["suppliers"] == ["SUP-0001", "SUP-0003"] and out["systems"] == ["vendor-channel"]
    principal = principal_from_token(SETTINGS, out["access_token"])
    assert principal.suppliers == {"SUP-0001", "SUP-0003"} and principal.systems == {"vendor-channel"}
    code, output = cli("token", "issue", "--scopes", "events:write", "--system", "payroll", "--json")
    assert code == 2 and "payroll" in output
    code, output = cli("token", "issue", "--scopes", "audit:read", "--ttl-minutes", "5256000", "--json")
    assert code == 2 and "ttl_minutes" in output
    code, output = cli("token", "api-key", "--subject", "erp", "--scopes", "events:write", "--system", "erp", "--json")
    assert code == 0 and json.loads(output)["settings_entry"]["systems"] == ["erp"]


def test_a_token_verified_before_is_refused_once_it_expires_or_under_another_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A verified token's claims are kept so its signature is checked once (the API bench): its
    expiry is still checked on every use, and the kept claims serve only the same secret."""
    token = signed(SETTINGS, exp=int(time.time()) + 60)["Authorization"][7:]
    assert principal_from_token(SETTINGS, token).subject == "mallory"
    assert principal_from_token(SETTINGS, token).subject == "mallory"  # kept

    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(ProblemError) as expired:
        principal_from_token(SETTINGS, token)
    assert (expired.value.status, expired.value.title) == (401, "Token expired")

    monkeypatch.undo()
    rotated = Settings(environment="development", jwt_secret="another-secret-of-at-least-32-characters!")
    with pytest.raises(ProblemError) as refused:
        principal_from_token(rotated, token)
    assert refused.value.status == 401
    forged = token[: token.rindex(".") + 1] + "A" * 43
    for _ in range(2):  # a refused token is never kept
        with pytest.raises(ProblemError):
            principal_from_token(SETTINGS, forged)
