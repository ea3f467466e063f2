"""Who is calling and what they may do.

Two ways in, both mapped to one `Principal` with scopes and teams:
- `Authorization: Bearer <JWT>`: HS256 tokens issued by `POST /v1/oauth/token` (OAuth2 client
  credentials, clients from `SUPPLYBRIDGE_OAUTH_CLIENTS`) or by `supplybridge token issue`;
  validated for signature, issuer, audience and expiry. Claims: `sub`, `scope` (space
  separated, as OAuth2 has it), `teams`, and for event senders `suppliers` and `systems`.
- `X-API-Key: <key>` for system-to-system callers, configured by SHA-256 in
  `SUPPLYBRIDGE_API_KEYS` (with the same `scopes`, `teams`, `suppliers`, `systems`).

Tokens are checked strictly: `exp` and `iat` must be numbers (a string is refused, not parsed),
the lifetime `exp - iat` at most `SUPPLYBRIDGE_JWT_MAX_LIFETIME_MINUTES` (24 h; a token without
`iat` is refused), and the list claims (`scope`, `teams`, `suppliers`, `systems`) a list of
strings or one space-separated string, never anything else (a string is split on spaces, never
into characters). Any malformed token is a 401 problem, never a 500.

What an event sender speaks for (`suppliers`: ERP supplier ids of a vendor partner; `systems`:
internal systems such as `erp`, `vendor-management`, `vendor-channel`) is what
starter/api/webhooks.py authorizes events against; `events:write` alone speaks for nothing.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from runtime.settings import ApiGrant, Settings
from starter.api.problems import ProblemError

SCOPES = {
    "suppliers:write": "onboard suppliers",
    "procurement:write": "submit, receive and cancel purchase orders",
    "invoices:write": "submit invoices",
    "tasks:decide": "see and decide the tasks of one's teams",
    "audit:read": "read the audit trail",
    "reports:read": "read the operations KPI report (GET /v1/reports/kpis) and the alerts (GET /v1/alerts)",
    "procurement:read": "read purchase orders (implied by procurement:write; starter/api/access.py)",
    "invoices:read": "read invoices (implied by invoices:write)",
    "suppliers:read": "read supplier onboarding and status runs (implied by suppliers:write)",
    "events:write": "send vendor status and inventory events",
    "payloads:decode": "see decrypted workflow payloads (the Temporal UI's codec; starter/api/codec_routes.py)",
    "payloads:encode": "encrypt payloads for the Temporal UI's start and signal forms",
    "intake:write": "submit files (X12, CSV), manage trading partners, read, replay and discard dead letters",
    "subscriptions:read": "read event subscriptions, deliveries and dead letters (implied by subscriptions:write)",
    "subscriptions:write": "add, remove and test event subscriptions; replay and discard their dead letters",
    "runs:read": "list failed, stuck and waiting runs (implied by runs:write)",
    "runs:write": "retry failed runs",
}
ALL_TEAMS = "*"
MANAGERS_SUFFIX = "-managers"

bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT", description="OAuth2 client-credentials JWT")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a system caller")


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)
    via: str = "jwt"
    suppliers: frozenset[str] = field(default_factory=frozenset)
    systems: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        """Idempotency keys and rate limits are kept per principal under this name; it is also
        the `source` of the acknowledgements it sends (e.g. `webhook:vendor-channel`, `jwt:ana`)."""
        return f"{self.via}:{self.subject}"

    def speaks_for_system(self, system: str) -> bool:
        return system in self.systems

    def speaks_for_supplier(self, supplier_id: str) -> bool:
        return supplier_id in self.suppliers

    def may_decide_for(self, team: str) -> bool:
        """A team's approver decides its tasks; its managers (`<team>-managers`) decide the
        escalated ones and the team's own."""
        if ALL_TEAMS in self.teams or team in self.teams:
            return True
        return f"{team}{MANAGERS_SUFFIX}" in self.teams


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    settings: Settings,
    subject: str,
    scopes: list[str],
    teams: list[str] | None = None,
    ttl_minutes: int | None = None,
    *,
    suppliers: list[str] | None = None,
    systems: list[str] | None = None,
) -> tuple[str, int]:
    """A signed token and its lifetime in seconds; ValueError for a lifetime above the cap
    (`jwt_max_lifetime_minutes`), which verification would refuse anyway."""
    now = int(time.time())
    minutes = ttl_minutes or settings.jwt_ttl_minutes
    if not 1 <= minutes <= settings.jwt_max_lifetime_minutes:
        raise ValueError(f"ttl_minutes: must be 1 to {settings.jwt_max_lifetime_minutes} minutes")
    lifetime = 60 * minutes
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "scope": " ".join(sorted(set(scopes))),
        "teams": sorted(set(teams or [])),
        "iat": now,
        "exp": now + lifetime,
    }
    if suppliers:
        claims["suppliers"] = sorted(set(suppliers))
    if systems:
        claims["systems"] = sorted(set(systems))
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256"), lifetime


def _malformed(detail: str) -> ProblemError:
    return ProblemError(401, "Invalid token", detail, auth=True)


def _names(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    """A list claim: absent, a list of strings, or one space-separated string (OAuth2's `scope`
    form). Anything else is a malformed token."""
    value = claims.get(name)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) and item and not item.isspace() for item in value):
        return frozenset(item.strip() for item in value)
    raise _malformed(f"the bearer token's {name} claim must be a list of strings or a space-separated string")


def _check_times(settings: Settings, claims: Mapping[str, Any]) -> None:
    """`exp`, `iat` (and `nbf` if present) are numbers; the lifetime is at most the cap; `exp` has
    not passed (checked here on every use: a verified token's claims are kept, see `_verified`)."""
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _malformed(f"the bearer token's {name} claim must be a number (seconds since 1970)")
    if claims["exp"] <= time.time():
        raise ProblemError(401, "Token expired", "the bearer token has expired", auth=True)
    cap = 60 * settings.jwt_max_lifetime_minutes
    if claims["exp"] - claims["iat"] > cap:
        raise _malformed(f"the bearer token lives longer than the {settings.jwt_max_lifetime_minutes} minutes allowed")


VERIFIED_TOKENS = 1024  # tokens whose signature was checked, kept: a client sends one token many times


@functools.lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(token: str, secret: str, audience: str, issuer: str) -> Mapping[str, Any]:
    """The claims of a token whose signature, audience, issuer, `iat` and `nbf` hold, read-only.
    Kept per exact token (a refused one raises and is not kept), so a client's next request with
    the same token skips the signature check; time only moves on, so of these checks only
    expiry can change its answer, and `_check_times` checks it on every use."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"], "verify_exp": False},
    )
    return MappingProxyType(claims)


def principal_from_token(settings: Settings, token: str) -> Principal:
    try:
        claims = _verified(token, settings.jwt_secret.get_secret_value(), settings.jwt_audience, settings.jwt_issuer)
    except jwt.InvalidAudienceError:
        raise ProblemError(401, "Wrong audience", "the bearer token is not for this API", auth=True) from None
    except jwt.InvalidIssuerError:
        raise ProblemError(401, "Wrong issuer", "the bearer token was not issued by this platform", auth=True) from None
    except jwt.MissingRequiredClaimError as missing:
        raise _malformed(f"the bearer token has no {missing.claim} claim") from None
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError):
        raise _malformed("the bearer token is not valid") from None
    _check_times(settings, claims)
    return Principal(
        subject=str(claims["sub"]),
        scopes=_names(claims, "scope"),
        teams=_names(claims, "teams"),
        via="jwt",
        suppliers=_names(claims, "suppliers"),
        systems=_names(claims, "systems"),
    )


def grant_for_secret(grants: list[ApiGrant], secret: str) -> ApiGrant | None:
    digest = sha256_hex(secret)
    return next((g for g in grants if hmac.compare_digest(g.secret_sha256, digest)), None)


async def _current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The dependency. `async` so FastAPI calls it on the event loop: a plain `def` dependency is
    run in a worker thread, a thread hop per request for work that never blocks."""
    return _authenticate(request, bearer, api_key)


def _authenticate(request: Request, bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> Principal:
    settings: Settings = request.app.state.settings
    if bearer is not None and bearer.credentials:
        principal = principal_from_token(settings, bearer.credentials)
    elif api_key:
        grant = grant_for_secret(settings.api_keys, api_key)
        if grant is None:
            raise ProblemError(401, "Invalid API key", "the X-API-Key is not known", auth=True)
        principal = Principal(
            grant.subject,
            frozenset(grant.scopes),
            frozenset(grant.teams),
            via="api_key",
            suppliers=frozenset(grant.suppliers),
            systems=frozenset(grant.systems),
        )
    else:
        raise ProblemError(401, "Not authenticated", "send a bearer token or an X-API-Key", auth=True)
    request.state.principal = principal
    request.app.state.rate_limiter.check(principal.key)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def authenticate_headers(request: Request) -> Principal:
    """The caller from the request's own headers (for routes that take a signature instead)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials) if credentials else None
    return _authenticate(request, bearer, request.headers.get("x-api-key"))


def require(scope: str) -> Any:
    """A dependency: the caller, who must hold `scope` (403 otherwise)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if scope not in principal.scopes:
            raise ProblemError(403, "Insufficient scope", f"this operation needs the scope {scope}", scope=scope)
        return principal

    return Depends(check)
