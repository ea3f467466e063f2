"""The remote payload codec (`/codec/encode`, `/codec/decode`) and the operator sign-in that lets
the Temporal UI call it (`POST /v1/session`).

Workflow payloads are encrypted (runtime/codec.py), so decoding them reveals tax ids and bank
accounts: the codec is a privileged read.

- Outside development, and whenever the API listens on anything but a loopback address, every
  call needs a principal holding `payloads:decode` (or `payloads:encode` for `/codec/encode`,
  which the UI uses for the inputs of its start and signal forms). The principal comes from a
  bearer token or an `X-API-Key` (the `temporal` CLI's `--codec-auth`, or the UI's
  `TEMPORAL_CODEC_PASS_ACCESS_TOKEN` when it sits behind an identity provider whose tokens the
  API accepts), or from the session cookie below.
- The browser cannot add a header to the UI's codec calls, so an operator signs in once at the
  API: `POST /v1/session` with a bearer token or API key holding `payloads:decode` sets an
  HttpOnly, SameSite=Strict cookie (Secure outside development), limited to the `/codec` path
  and to the payload scopes, valid for `SUPPLYBRIDGE_JWT_TTL_MINUTES`. The UI, told to include
  credentials (`TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`, or "include cross-origin credentials"
  in its codec settings), sends it; CORS admits the UI's origin with credentials (app.py).
  SameSite=Strict means the UI and the API must be on the same site (e.g. ui.example.org and
  api.example.org, or localhost:8233 and localhost:8000), which also keeps other sites' pages
  from using the cookie. The cookie is a JWT signed like the API's tokens, so a session cannot
  outlive or exceed what was signed.
- In the embedded development stack (`environment=development`, API on 127.0.0.1) the codec
  answers without a login, to local callers only; `supplybridge up` says so.
- Every call is audited (actor, namespace, payload count; never the content), before the
  decoded payloads are returned: no audit entry, no clear text.
- A body that is not `{"payloads": [...]}` of valid payloads, or a payload that fails
  authentication, is a 400 problem naming why, never a 500.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.audit import AuditRecord
from runtime.codec import CodecRequestError, PayloadDecryptionError, decode_payloads_json, encode_payloads_json
from runtime.settings import Settings
from starter.api.problems import PROBLEM_RESPONSES, ProblemError, problem
from starter.api.security import CurrentPrincipal, Principal, authenticate_headers, issue_token, principal_from_token
from store import Store

DECODE_SCOPE = "payloads:decode"
ENCODE_SCOPE = "payloads:encode"
SESSION_COOKIE = "supplybridge_codec_session"
SESSION_PATH = "/codec"
_SESSION_SCOPES = frozenset({DECODE_SCOPE, ENCODE_SCOPE})

router = APIRouter()


def codec_open_without_login(settings: Settings) -> bool:
    """Only a development API on a loopback address serves the codec without a login."""
    return settings.environment == "development" and _is_loopback(settings.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _codec_caller(request: Request, scope: str) -> Principal:
    settings: Settings = request.app.state.settings
    headers = request.headers
    if headers.get("authorization") or headers.get("x-api-key"):
        principal = authenticate_headers(request)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        try:
            principal = principal_from_token(settings, cookie)
        except ProblemError as refused:
            raise ProblemError(
                401, "Session not valid", f"{refused.detail.replace('bearer token', 'codec session')}; sign in "
                "again with POST /v1/session", auth=True,
            ) from None  # fmt: skip
        request.app.state.rate_limiter.check(principal.key)
    elif codec_open_without_login(settings) and _is_loopback(request.client.host if request.client else ""):
        return Principal("anonymous", _SESSION_SCOPES, via="development")
    else:
        raise ProblemError(
            401,
            "Not authenticated",
            f"the payload codec needs a bearer token, an X-API-Key or a session (POST /v1/session) with {scope}",
            auth=True,
        )
    if scope not in principal.scopes:
        raise ProblemError(403, "Insufficient scope", f"the payload codec needs the scope {scope}", scope=scope)
    return principal


async def _codec_call(request: Request, scope: str, action: str, transform: Any) -> JSONResponse:
    principal = _codec_caller(request, scope)
    try:
        body = await request.json()
        result = await transform(request.app.state.codec, body)
    except json.JSONDecodeError:
        return problem(400, "Bad request", 'the body is not JSON; send {"payloads": [...]}')
    except CodecRequestError as error:
        return problem(400, "Bad request", str(error))
    except PayloadDecryptionError as error:
        return problem(400, "Payload not decodable", f"payloads: {error}")
    namespace = request.headers.get("x-namespace", "").strip()[:255] or "(not given)"
    record = AuditRecord(
        actor=principal.subject,
        action=action,
        record_type="namespace",
        record_id=namespace,
        details={"via": principal.via, "payloads": len(result["payloads"])},
    )
    store: Store = request.app.state.store
    await asyncio.to_thread(store.audit.append, record)
    return JSONResponse(result)


@router.post("/codec/decode", tags=["codec"], include_in_schema=False)
async def codec_decode(request: Request) -> JSONResponse:
    return await _codec_call(request, DECODE_SCOPE, "payloads.decoded", decode_payloads_json)


@router.post("/codec/encode", tags=["codec"], include_in_schema=False)
async def codec_encode(request: Request) -> JSONResponse:
    return await _codec_call(request, ENCODE_SCOPE, "payloads.encoded", encode_payloads_json)


@router.post("/v1/session", tags=["session"], responses=PROBLEM_RESPONSES)
async def sign_in(request: Request, response: Response, principal: CurrentPrincipal) -> dict[str, Any]:
    """Sign in for the Temporal UI's codec: sets an HttpOnly session cookie for `/codec` carrying
    your payload scopes (`payloads:decode`, needed; `payloads:encode`, kept if you hold it)."""
    if DECODE_SCOPE not in principal.scopes:
        detail = f"a codec session needs the scope {DECODE_SCOPE}"
        raise ProblemError(403, "Insufficient scope", detail, scope=DECODE_SCOPE)
    settings: Settings = request.app.state.settings
    scopes = sorted(principal.scopes & _SESSION_SCOPES)
    token, lifetime = issue_token(settings, principal.subject, scopes)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=lifetime,
        path=SESSION_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )
    record = AuditRecord(
        actor=principal.subject, action="session.signed_in", record_type="session", record_id=principal.subject,
        details={"via": principal.via, "scopes": scopes},
    )  # fmt: skip
    store: Store = request.app.state.store
    await asyncio.to_thread(store.audit.append, record)
    return {"subject": principal.subject, "scopes": scopes, "expires_in": lifetime, "cookie_path": SESSION_PATH}


@router.options("/v1/session", include_in_schema=False)
async def session_options() -> Response:
    """What /v1/session allows (CORS preflights are answered by the CORS middleware first)."""
    return Response(status_code=204, headers={"Allow": "DELETE, OPTIONS, POST"})


@router.delete("/v1/session", tags=["session"], status_code=204, responses=PROBLEM_RESPONSES)
async def sign_out(request: Request, principal: CurrentPrincipal) -> Response:
    """Clear the codec session cookie of this browser."""
    settings: Settings = request.app.state.settings
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path=SESSION_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )
    return response
