"""The Tryton child process and the bootstrapped database, read back over JSON-RPC.

One module-scoped server (`tryton_endpoint`) serves the read-back tests; the lifecycle test
starts its own to see it go away. The template is the machine's cached one: the first run on a
machine builds it (about a minute), later runs copy it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.tryton.rpc import TrytonRpc
from runtime import tryton_bootstrap
from runtime.ports import free_port
from runtime.tryton_bootstrap import ITEMS_SEED, SUPPLIERS_SEED, ensure_template, prepare_database, template_path
from runtime.tryton_master_data import COMPANY_NAME, STANDARD_PAYMENT_TERMS, payment_term_values
from runtime.tryton_server import INSTALL_HINT, TrytonEndpoint, TrytonServer, TrytonServerError
from tests.support.tryton import TEST_DATABASE, TEST_PASSWORD, TRYTON_MISSING, tryton_available

needs_tryton = pytest.mark.skipif(not tryton_available(), reason=TRYTON_MISSING)


in_module_loop = pytest.mark.asyncio(loop_scope="module")  # the read-back tests share `rpc`


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rpc(tryton_endpoint: TrytonEndpoint) -> Any:
    """One login for the module's read-back tests (a Tryton login hashes the password: slow)."""
    async with tryton_endpoint.rpc() as session:
        session.context = dict(await session.call("res.user", "get_preferences", True))
        yield session


# -- the process -------------------------------------------------------------------------------


@needs_tryton
async def test_server_starts_answers_a_login_and_stops_without_a_trace(tmp_path: Path) -> None:
    await prepare_database(tmp_path, database=TEST_DATABASE, password=TEST_PASSWORD)
    server = TrytonServer(state_dir=tmp_path, port=free_port(), database=TEST_DATABASE, password=TEST_PASSWORD)
    async with server:
        pid = server.pid
        assert pid is not None and server.running
        async with server.endpoint.rpc() as session:
            [admin] = await session.search_read("res.user", [("login", "=", "admin")], ["login"])
        assert admin["login"] == "admin"
        assert (tmp_path / "tryton" / "trytond.conf").stat().st_mode & 0o077 == 0
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the whole process group is gone


@needs_tryton
async def test_a_wrong_password_fails_the_start_with_the_log_tail(tmp_path: Path) -> None:
    await prepare_database(tmp_path, database=TEST_DATABASE, password=TEST_PASSWORD)
    server = TrytonServer(state_dir=tmp_path, port=free_port(), database=TEST_DATABASE, password="not-the-password")
    with pytest.raises(TrytonServerError, match="refused the login of 'admin'"):
        await server.start()
    assert not server.running


async def test_without_trytond_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    server = TrytonServer(state_dir=tmp_path / "state", port=free_port(), password=TEST_PASSWORD)
    with pytest.raises(TrytonServerError, match=r"pip install 'supplybridge\[tryton\]'") as raised:
        await server.start()
    assert str(raised.value) == INSTALL_HINT
    assert not (tmp_path / "state").exists()


# -- the template cache ------------------------------------------------------------------------


@needs_tryton
async def test_a_second_prepare_is_a_cache_hit_and_an_existing_database_is_kept(tmp_path: Path) -> None:
    template = await ensure_template(TEST_PASSWORD)
    built_at = template.stat().st_mtime_ns
    database = await prepare_database(tmp_path, database="another", password=TEST_PASSWORD)
    assert database == tmp_path / "tryton" / "another.sqlite"
    assert template.stat().st_mtime_ns == built_at
    assert database.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(database) as db:  # a user's change survives the next prepare
        db.execute("UPDATE res_user SET name = 'Changed by the user' WHERE login = 'admin'")
    await prepare_database(tmp_path, database="another", password=TEST_PASSWORD)
    with sqlite3.connect(database) as db:
        [(name,)] = db.execute("SELECT name FROM res_user WHERE login = 'admin'").fetchall()
    assert name == "Changed by the user"
    assert template.stat().st_mtime_ns == built_at


async def test_concurrent_builders_build_the_template_once_and_prune_stale_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[Path] = []

    async def fake_build(template: Path, password: str) -> None:
        builds.append(template)
        await asyncio.sleep(0)  # let the other builder reach the lock
        with sqlite3.connect(template) as db:
            db.execute("CREATE TABLE built (password TEXT)")

    monkeypatch.setattr(tryton_bootstrap, "build_template", fake_build)
    stale, recent = tmp_path / "template-stale.sqlite", tmp_path / "template-recent.sqlite"
    for template in (stale, recent):
        template.write_bytes(b"")
        Path(f"{template}.lock").write_bytes(b"")
    month_ago = time.time() - 30 * 24 * 60 * 60
    os.utime(f"{stale}.lock", (month_ago, month_ago))

    first, second = await asyncio.gather(
        ensure_template("some-password", tmp_path), ensure_template("some-password", tmp_path)
    )
    assert first == second == template_path("some-password", tmp_path)
    assert len(builds) == 1
    assert template_path("other-password", tmp_path) != first
    assert not stale.exists() and not Path(f"{stale}.lock").exists()
    assert recent.exists()


def test_payment_terms_codes_become_one_remainder_line_after_the_net_days() -> None:
    net45 = payment_term_values("NET45")
    assert net45["name"] == "NET45"
    [(_, [line])] = net45["lines"]
    assert line["type"] == "remainder" and line["relativedeltas"] == [("create", [{"days": 45}])]
    discounted = payment_term_values("2/10 NET30")
    assert discounted["lines"][0][1][0]["relativedeltas"] == [("create", [{"days": 30}])]
    assert "2% discount if paid within 10 days" in discounted["description"]
    with pytest.raises(ValueError, match="unknown payment terms"):
        payment_term_values("EOM")


# -- what the bootstrap made, read back ----------------------------------------------------------


@in_module_loop
async def test_the_company_works_in_usd(rpc: TrytonRpc) -> None:
    [company] = await rpc.search_read("company.company", [], ["party.name", "currency.code"])
    assert company["party."]["name"] == COMPANY_NAME
    assert company["currency."]["code"] == "USD"
    [user] = await rpc.search_read("res.user", [("login", "=", "admin")], ["company"])
    assert user["company"] == company["id"]


@in_module_loop
async def test_this_year_and_next_have_fiscal_years_with_periods(rpc: TrytonRpc) -> None:
    years = await rpc.search_read("account.fiscalyear", [], ["name", "periods"], order=[("start_date", "ASC")])
    assert len(years) == 2 and all(len(year["periods"]) == 12 for year in years)
    accounts = await rpc.call("account.configuration", "read", [1], ["default_account_payable"])
    assert accounts[0]["default_account_payable"]


@in_module_loop
async def test_each_payment_terms_code_is_a_payment_term(rpc: TrytonRpc) -> None:
    seeded = {s["payment_terms"] for s in json.loads(SUPPLIERS_SEED.read_text())}
    terms = await rpc.search_read("account.invoice.payment_term", [], ["name", "lines"])
    assert {t["name"] for t in terms} >= seeded | set(STANDARD_PAYMENT_TERMS)
    [net60] = [t for t in terms if t["name"] == "NET60"]
    [line] = await rpc.search_read("account.invoice.payment_term.line", [("id", "in", net60["lines"])], ["type"])
    deltas = await rpc.search_read("account.invoice.payment_term.line.delta", [("line", "=", line["id"])], ["days"])
    assert line["type"] == "remainder" and [d["days"] for d in deltas] == [60]


@in_module_loop
async def test_products_carry_our_item_ids_and_pack_conversions(rpc: TrytonRpc) -> None:
    items = json.loads(ITEMS_SEED.read_text())
    fields = ["code", "purchasable", "type", "default_uom.symbol", "default_uom.category", "purchase_uom.symbol"]
    products = {p["code"]: p for p in await rpc.search_read("product.product", [], fields)}
    assert set(products) >= {item["item_id"] for item in items}
    for item in items:
        product = products[item["item_id"]]
        assert product["purchasable"] and product["type"] == "goods"
        assert product["default_uom."]["symbol"] == product["purchase_uom."]["symbol"] == item["base_uom"]
        units = await rpc.search_read(
            "product.uom",
            [("category", "=", product["default_uom."]["category"])],
            ["symbol", "factor", "category.name"],
        )
        assert {u["symbol"]: Decimal(str(u["factor"])) for u in units} == {
            symbol: Decimal(str(factor)) for symbol, factor in item["uoms"].items()
        }
        assert units[0]["category."]["name"] == f"{item['item_id']} packs"
    [case] = await rpc.search_read(
        "product.uom", [("category.name", "=", "ITM-1001 packs"), ("symbol", "=", "CS")], ["factor"]
    )
    assert case["factor"] == 10  # ITM-1001: 1 CS = 10 BX


@in_module_loop
async def test_new_parties_are_numbered_after_the_seeded_suppliers(rpc: TrytonRpc) -> None:
    [config] = await rpc.call("party.configuration", "read", [1], ["party_sequence"])
    [sequence] = await rpc.call(
        "ir.sequence", "read", [config["party_sequence"]], ["name", "prefix", "padding", "number_next"]
    )
    assert (sequence["name"], sequence["prefix"], sequence["padding"]) == ("SupplyBridge", "SUP-", 4)
    assert sequence["number_next"] == len(json.loads(SUPPLIERS_SEED.read_text())) + 1


@in_module_loop
async def test_the_seed_suppliers_are_parties_with_their_codes(rpc: TrytonRpc) -> None:
    try:
        import adapters.tryton.suppliers  # noqa: F401
    except ImportError:
        pytest.skip("adapters/tryton/suppliers.py (seed_supplier) is not written yet")
    codes = [s["erp_supplier_id"] for s in json.loads(SUPPLIERS_SEED.read_text())]
    parties = await rpc.call(
        "party.party", "search_read", [("code", "in", codes)], 0, None, [], ["code"], context={"active_test": False}
    )
    assert sorted(p["code"] for p in parties) == sorted(codes)


@in_module_loop
async def test_the_default_warehouse_receives(rpc: TrytonRpc) -> None:
    [warehouse] = await rpc.search_read("stock.location", [("code", "=", "WH")], ["type", "input_location"])
    assert warehouse["type"] == "warehouse" and warehouse["input_location"]
