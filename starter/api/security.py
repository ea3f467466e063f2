"""Who is calling and what they may do.

Two ways in, both mapped to one `Principal` with scopes and teams:
- `Authorization: Bearer <JWT>`: HS256 tokens issued by `POST /v1/oauth/token` (OAuth2 client
  credentials, clients from `SUPPLYBRIDGE_OAUTH_CLIENTS`) or by `supplybridge token issue`;
  validated for signature, issuer, audience and expiry. Claims: `sub`, `scope` (space
  separated, as OAuth2 has it), `teams`.
- `X-API-Key: <key>` for system-to-system callers, configured by SHA-256 in
  `SUPPLYBRIDGE_API_KEYS`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
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
    "events:write": "send vendor status and inventory events",
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

    @property
    def key(self) -> str:
        """Idempotency keys and rate limits are kept per principal under this name."""
        return f"{self.via}:{self.subject}"

    def may_decide_for(self, team: str) -> bool:
        """A team's approver decides its tasks; its managers (`<team>-managers`) decide the
        escalated ones and the team's own."""
        if ALL_TEAMS in self.teams or team in self.teams:
            return True
        return f"{team}{MANAGERS_SUFFIX}" in self.teams


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    settings: Settings, subject: str, scopes: list[str], teams: list[str] | None = None, ttl_minutes: int | None = None
) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    now = int(time.time())
    lifetime = 60 * (ttl_minutes or settings.jwt_ttl_minutes)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "scope": " ".join(sorted(set(scopes))),
        "teams": sorted(set(teams or [])),
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256"), lifetime


def principal_from_token(settings: Settings, token: str) -> Principal:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise ProblemError(401, "Token expired", "the bearer token has expired", auth=True) from None
    except jwt.InvalidAudienceError:
        raise ProblemError(401, "Wrong audience", "the bearer token is not for this API", auth=True) from None
    except jwt.InvalidIssuerError:
        raise ProblemError(401, "Wrong issuer", "the bearer token was not issued by this platform", auth=True) from None
    except jwt.PyJWTError:
        raise ProblemError(401, "Invalid token", "the bearer token is not valid", auth=True) from None
    scopes = frozenset(str(claims.get("scope", "")).split())
    teams = frozenset(str(t) for t in claims.get("teams") or [])
    return Principal(subject=str(claims["sub"]), scopes=scopes, teams=teams, via="jwt")


def grant_for_secret(grants: list[ApiGrant], secret: str) -> ApiGrant | None:
    digest = sha256_hex(secret)
    return next((g for g in grants if hmac.compare_digest(g.secret_sha256, digest)), None)


def _authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    settings: Settings = request.app.state.settings
    if bearer is not None and bearer.credentials:
        principal = principal_from_token(settings, bearer.credentials)
    elif api_key:
        grant = grant_for_secret(settings.api_keys, api_key)
        if grant is None:
            raise ProblemError(401, "Invalid API key", "the X-API-Key is not known", auth=True)
        principal = Principal(grant.subject, frozenset(grant.scopes), frozenset(grant.teams), via="api_key")
    else:
        raise ProblemError(401, "Not authenticated", "send a bearer token or an X-API-Key", auth=True)
    request.state.principal = principal
    request.app.state.rate_limiter.check(principal.key)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_authenticate)]


def authenticate_headers(request: Request) -> Principal:
    """The caller from the request's own headers (for routes that take a signature instead)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials) if credentials else None
    return _authenticate(request, bearer, request.headers.get("x-api-key"))


def require(scope: str) -> Any:
    """A dependency: the caller, who must hold `scope` (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if scope not in principal.scopes:
            raise ProblemError(403, "Insufficient scope", f"this operation needs the scope {scope}", scope=scope)
        return principal

    return Depends(check)
