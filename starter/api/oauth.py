"""OAuth2 client credentials (`POST /v1/oauth/token`): a JWT for a configured client
(`SUPPLYBRIDGE_OAUTH_CLIENTS`, by the SHA-256 of its secret) with the scopes it asks for and
holds, its teams, and what it speaks for (suppliers, systems)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from runtime.settings import Settings
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import grant_for_secret, issue_token

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


@router.post("/oauth/token", tags=["auth"], response_model=TokenResponse)
async def token(
    request: Request,
    grant_type: Annotated[str, Form(pattern="^client_credentials$")],
    client_id: Annotated[str, Form(min_length=1, max_length=200)],
    client_secret: Annotated[str, Form(min_length=1, max_length=500)],
    scope: Annotated[str | None, Form(max_length=1000)] = None,
) -> JSONResponse:
    """OAuth2 client credentials: a JWT with the requested scopes the client holds (all by default)."""
    settings: Settings = request.app.state.settings
    client = settings.oauth_clients.get(client_id)
    if client is None or grant_for_secret([client], client_secret) is None:
        raise ProblemError(401, "Invalid client", "unknown client or wrong secret", auth=True)
    wanted = set(scope.split()) if scope else set(client.scopes)
    if not wanted <= set(client.scopes):
        raise ProblemError(
            403, "Insufficient scope", "the client may not have: " + ", ".join(sorted(wanted - set(client.scopes)))
        )
    token_value, lifetime = issue_token(
        settings, client.subject, sorted(wanted), client.teams, suppliers=client.suppliers, systems=list(client.systems)
    )
    return JSONResponse(
        TokenResponse(access_token=token_value, expires_in=lifetime, scope=" ".join(sorted(wanted))).model_dump()
    )
