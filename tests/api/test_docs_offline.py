"""/docs and /redoc render on a closed network: every script, stylesheet and icon they load is
served by the API itself (from the fastapi-offline package), none from a CDN."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from runtime.settings import Settings
from starter.api.app import create_app
from store import Store

ASSET_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(state_dir=tmp_path)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, store=store)
    app.state.store = store  # ASGITransport does not run the lifespan; the docs need no Temporal
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            yield http
    finally:
        store.close()


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
async def test_docs_pages_load_only_same_origin_assets(client: httpx.AsyncClient, page: str, script: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"""["'](?:https?:)?//""", html), "no absolute or protocol-relative URL may be referenced"
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html
    assets = ASSET_REFERENCE.findall(html)
    assert any(a.endswith(script) for a in assets), assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), f"{page} loads {asset} from elsewhere"
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        suffix = Path(asset).suffix
        assert EXPECTED_TYPES[suffix] in loaded.headers["content-type"], (asset, loaded.headers["content-type"])
        assert len(loaded.content) > 1000, f"{asset} is empty"


async def test_swagger_ui_does_not_call_the_online_validator(client: httpx.AsyncClient) -> None:
    assert '"validatorUrl": null' in (await client.get("/docs")).text


async def test_the_openapi_document_the_docs_read_is_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["info"]["title"] == "SupplyBridge API"
    assert "/v1/session" in document["paths"]
