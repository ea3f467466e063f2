"""The remote payload codec is a privileged read: outside development it needs a principal with
`payloads:decode` (a bearer token, an API key, or the session cookie `POST /v1/session` sets for
the Temporal UI), every call is audited without the content, and garbage is a 400."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.common.v1 import Payload

from runtime.codec import EncryptionCodec, codec_from_settings, payloads_to_json
from runtime.settings import ApiGrant, Settings
from starter.api.app import create_app
from starter.api.codec_routes import SESSION_COOKIE
from starter.api.security import issue_token, sha256_hex
from store import Store

PRODUCTION = {
    "environment": "production",
    "payload_encryption_key": base64.b64encode(os.urandom(32)).decode(),
    "webhook_secret": "a-webhook-secret-for-these-tests-only-0123",
    "sandbox_token": "a-sandbox-token-for-these-tests",
    "jwt_secret": "a-jwt-signing-secret-for-these-tests-only-4567",
}
UI_ORIGIN = "http://127.0.0.1:8233"
CLEAR = b'{"tax_id": "45-2873311", "account_number": "883100245561"}'
API_KEY = "sbk_codec_reader_key_for_tests"


@asynccontextmanager
async def codec_api(tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(state_dir=tmp_path, **overrides)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, store=store)
    app.state.store = store  # ASGITransport does not run the lifespan; the codec needs no Temporal
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://api.example.org") as client:
            yield client, settings, store
    finally:
        store.close()


async def encrypted_body(settings: Settings) -> dict[str, Any]:
    payloads = await codec_from_settings(settings).encode([Payload(metadata={"encoding": b"json/plain"}, data=CLEAR)])
    return payloads_to_json(payloads)


def bearer(settings: Settings, *scopes: str, subject: str = "operator-ana") -> dict[str, str]:
    token, _ = issue_token(settings, subject, list(scopes))
    return {"Authorization": f"Bearer {token}"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and "Traceback" not in response.text
    assert "45-2873311" not in response.text
    return body


def decoded_data(response: httpx.Response) -> bytes:
    assert response.status_code == 200, response.text
    return base64.b64decode(response.json()["payloads"][0]["data"])


async def test_outside_development_the_codec_needs_a_principal_with_the_decode_scope(tmp_path: Path) -> None:
    async with codec_api(tmp_path, **PRODUCTION) as (client, settings, store):
        body = await encrypted_body(settings)
        refused = problem(await client.post("/codec/decode", json=body), 401)
        assert "payloads:decode" in refused["detail"]
        assert problem(await client.post("/codec/decode", json=body, headers=bearer(settings, "audit:read")), 403)
        headers = {**bearer(settings, "payloads:decode"), "X-Namespace": "default"}
        assert decoded_data(await client.post("/codec/decode", json=body, headers=headers)) == CLEAR
        [entry] = store.audit.query(actor="operator-ana")
    assert (entry.action, entry.record_type, entry.record_id) == ("payloads.decoded", "namespace", "default")
    assert entry.details == {"via": "jwt", "payloads": 1}
    assert "45-2873311" not in entry.model_dump_json() and "883100245561" not in entry.model_dump_json()


async def test_an_api_key_with_the_scope_decodes(tmp_path: Path) -> None:
    grant = ApiGrant(subject="ops-console", secret_sha256=sha256_hex(API_KEY), scopes=["payloads:decode"])
    async with codec_api(tmp_path, **PRODUCTION, api_keys=[grant]) as (client, settings, _store):
        response = await client.post(
            "/codec/decode", json=await encrypted_body(settings), headers={"X-API-Key": API_KEY}
        )
        assert decoded_data(response) == CLEAR


async def test_encoding_needs_its_own_scope(tmp_path: Path) -> None:
    plain = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "MQ=="}]}
    async with codec_api(tmp_path, **PRODUCTION) as (client, settings, _store):
        problem(await client.post("/codec/encode", json=plain), 401)
        problem(await client.post("/codec/encode", json=plain, headers=bearer(settings, "payloads:decode")), 403)
        encoded = await client.post("/codec/encode", json=plain, headers=bearer(settings, "payloads:encode"))
        assert encoded.status_code == 200 and encoded.json()["payloads"][0]["data"] != "MQ=="


async def test_an_operator_signs_in_once_and_the_ui_decodes_with_the_session_cookie(tmp_path: Path) -> None:
    async with codec_api(tmp_path, **PRODUCTION) as (client, settings, store):
        body = await encrypted_body(settings)
        problem(await client.post("/v1/session"), 401)
        problem(await client.post("/v1/session", headers=bearer(settings, "audit:read")), 403)
        signed_in = await client.post("/v1/session", headers=bearer(settings, "payloads:decode", "audit:read"))
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["scopes"] == ["payloads:decode"]
        cookie = signed_in.headers["set-cookie"]
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/codec", "Max-Age="):
            assert attribute in cookie, cookie
        # the UI's call: no Authorization header, only the browser's cookie (credentials: include)
        ui_headers = {"Origin": UI_ORIGIN, "X-Namespace": "default"}
        response = await client.post("/codec/decode", json=body, headers=ui_headers)
        assert decoded_data(response) == CLEAR
        assert response.headers["access-control-allow-origin"] == UI_ORIGIN
        assert response.headers["access-control-allow-credentials"] == "true"
        assert [e.action for e in store.audit.query(actor="operator-ana")] == ["session.signed_in", "payloads.decoded"]
        # the session speaks only for the codec
        assert (await client.get("/v1/audit")).status_code == 401
        problem(await client.post("/codec/encode", json=body, headers=ui_headers), 403)
        assert (await client.request("DELETE", "/v1/session", headers=bearer(settings, "x"))).status_code == 204
        assert SESSION_COOKIE not in client.cookies
        problem(await client.post("/codec/decode", json=body, headers=ui_headers), 401)


async def test_a_forged_or_expired_session_is_refused(tmp_path: Path) -> None:
    async with codec_api(tmp_path, **PRODUCTION) as (client, settings, _store):
        body = await encrypted_body(settings)
        client.cookies.set(SESSION_COOKIE, "not-a-token", domain="api.example.org", path="/codec")
        assert "sign in again" in problem(await client.post("/codec/decode", json=body), 401)["detail"]


async def test_the_ui_origin_may_call_the_codec_with_credentials(tmp_path: Path) -> None:
    async with codec_api(tmp_path, **PRODUCTION) as (client, _settings, _store):
        preflight = await client.options(
            "/codec/decode",
            headers={
                "Origin": UI_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
        assert preflight.headers["access-control-allow-credentials"] == "true"
        other = await client.options(
            "/codec/decode", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


async def test_development_on_loopback_is_open_and_still_audited(tmp_path: Path) -> None:
    async with codec_api(tmp_path) as (client, settings, store):
        response = await client.post("/codec/decode", json=await encrypted_body(settings))
        assert decoded_data(response) == CLEAR
        [entry] = store.audit.query(actor="anonymous")
    assert entry.details == {"via": "development", "payloads": 1} and entry.record_id == "(not given)"


async def test_development_listening_beyond_loopback_needs_a_login(tmp_path: Path) -> None:
    async with codec_api(tmp_path, host="0.0.0.0") as (client, settings, _store):
        body = await encrypted_body(settings)
        problem(await client.post("/codec/decode", json=body), 401)
        assert decoded_data(await client.post("/codec/decode", json=body, headers=bearer(settings, "payloads:decode")))


async def test_garbage_is_a_400_naming_why(tmp_path: Path) -> None:
    async with codec_api(tmp_path) as (client, settings, _store):
        [good] = (await encrypted_body(settings))["payloads"]
        data = base64.b64decode(good["data"])
        tampered = {**good, "data": base64.b64encode(data[:-1] + bytes([data[-1] ^ 1])).decode()}
        foreign = payloads_to_json(await EncryptionCodec(os.urandom(32), "other").encode([Payload(data=b"x")]))
        headers = {"Content-Type": "application/json"}
        cases: list[tuple[bytes, str]] = [
            (b"not json at all", "not JSON"),
            (b"", "not JSON"),
            (b"[1, 2]", "payloads"),
            (b'{"payloads": "x"}', "payloads"),
            (b'{"payloads": [{"data": "@@@ not base64"}]}', "not valid Temporal payloads"),
            (b'{"payloads": [{"unknown": 1}]}', "not valid Temporal payloads"),
            (b'{"payloads": [7]}', "not valid Temporal payloads"),
            (httpx.Request("POST", "/", json={"payloads": [tampered]}).read(), "failed authentication"),
            (httpx.Request("POST", "/", json=foreign).read(), "unknown key id"),
        ]
        for content, why in cases:
            response = await client.post("/codec/decode", content=content, headers=headers)
            assert why in problem(response, 400)["detail"], (content, response.text)
