"""A ready Tryton database in the state dir, copied from a cached, fully set-up template.

`prepare_database(state_dir, database=..., password=...)` returns
`<state_dir>/tryton/<database>.sqlite`:
- If that file exists it is returned untouched: it is the user's ERP, never reset here.
- Else the template is copied into place (SQLite's backup API, so a template left in WAL mode
  copies whole), 0600 in a 0700 directory.
- The template lives in the cache dir (`cache_dir`, else `SUPPLYBRIDGE_TRYTON_CACHE`, else
  `~/.cache/supplybridge/tryton`) as `template-<key>.sqlite`. The key is a sha256 of the
  installed trytond distributions and their versions (importlib.metadata: trytond is not
  imported), `BOOTSTRAP_VERSION` (bump it when the master data changes), the seed files'
  bytes, the source of the code that writes the master data (`TEMPLATE_SOURCES`: the suppliers
  adapter seeds the suppliers), the current year (the template has fiscal years for it and the
  next) and the admin password (the template's admin has it; only the hash is in the name).
- On a cache miss the template is built under an exclusive `flock` on `<template>.lock`, so
  two processes (pytest-xdist workers, two CLIs) build it once: the second waits, then finds
  it. It is built in a private temporary dir and renamed into place, so a crash leaves no
  half-made template. Building = `trytond-admin --all --activate-dependencies -u <MODULES>`
  (the password through `TRYTONPASSFILE`, an empty e-mail on stdin), then a `TrytonServer`
  on a free port and runtime/tryton_master_data.py over JSON-RPC.
- Each use marks the template's lock file; after a build, templates unused for
  `STALE_TEMPLATE_DAYS` are deleted, so version bumps do not pile up copies in the cache.
- Timings are logged (`tryton bootstrap: ... in N s`); nothing is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import signal
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from runtime.child_process import prepare_child
from runtime.ports import free_port
from runtime.state_dir import PRIVATE_DIR_MODE, prepare_state_dir, private_file
from runtime.tryton_master_data import populate
from runtime.tryton_server import TrytonServer, TrytonServerError, child_environment, log_tail, tryton_executable

log = logging.getLogger(__name__)

BOOTSTRAP_VERSION = "1"
MODULES = ("party", "company", "currency", "product", "purchase", "stock", "account", "account_invoice", "bank")
REPO_ROOT = Path(__file__).resolve().parent.parent
ITEMS_SEED = REPO_ROOT / "sandbox" / "seed" / "items.json"
SUPPLIERS_SEED = REPO_ROOT / "sandbox" / "seed" / "erp-suppliers.json"
# the code whose output is in the template besides the seed files: a change rebuilds it
TEMPLATE_SOURCES = (
    REPO_ROOT / "runtime" / "tryton_master_data.py",
    REPO_ROOT / "adapters" / "tryton" / "suppliers.py",
    REPO_ROOT / "adapters" / "tryton" / "parties.py",
)
ADMIN_TIMEOUT_SECONDS = 600.0
STALE_TEMPLATE_DAYS = 14
TEMPLATE_DATABASE = "template"


class TrytonBootstrapError(TrytonServerError):
    pass


def default_cache_dir() -> Path:
    configured = os.environ.get("SUPPLYBRIDGE_TRYTON_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "supplybridge" / "tryton"


def installed_tryton_versions() -> list[tuple[str, str]]:
    """(distribution, version) of every installed trytond* distribution, sorted."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("-", "_")
        if name.startswith("trytond"):
            found[name] = dist.version
    return sorted(found.items())


def template_key(password: str) -> str:
    digest = hashlib.sha256()
    for part in (
        json.dumps(installed_tryton_versions()).encode(),
        BOOTSTRAP_VERSION.encode(),
        str(dt.date.today().year).encode(),  # the template's fiscal years are this one and the next
        ITEMS_SEED.read_bytes(),
        SUPPLIERS_SEED.read_bytes(),
        *(path.read_bytes() if path.exists() else b"-" for path in TEMPLATE_SOURCES),
        hashlib.sha256(password.encode()).digest(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:24]


def template_path(password: str, cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / f"template-{template_key(password)}.sqlite"


def database_path(state_dir: Path, database: str) -> Path:
    return state_dir / "tryton" / f"{database}.sqlite"


async def prepare_database(state_dir: Path, *, database: str, password: str, cache_dir: Path | None = None) -> Path:
    """The state dir's Tryton database: the existing one, else a copy of the (cached) template."""
    target = database_path(state_dir, database)
    if target.exists():
        log.info("tryton bootstrap: using the existing database %s", target)
        return target
    template = await ensure_template(password, cache_dir)
    started = time.perf_counter()
    prepare_state_dir(state_dir)
    prepare_state_dir(target.parent)
    await asyncio.to_thread(copy_sqlite, template, target)
    log.info("tryton bootstrap: %s copied from %s in %.1f s", target, template.name, time.perf_counter() - started)
    return target


async def ensure_template(password: str, cache_dir: Path | None = None) -> Path:
    """The template for this password and these versions, built under the lock if missing."""
    template = template_path(password, cache_dir)
    lock_path = template.with_name(template.name + ".lock")
    if template.exists():
        mark_used(lock_path)
        return template
    prepare_state_dir(template.parent)
    lock = private_file(lock_path).open("a")
    try:
        await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
        if template.exists():  # another process built it while we waited
            return template
        started = time.perf_counter()
        await build_template(template, password)
        log.info("tryton bootstrap: template %s built in %.1f s", template.name, time.perf_counter() - started)
    finally:
        lock.close()  # releases the flock
    prune_stale_templates(template.parent, keep=template)
    return template


def mark_used(lock_path: Path) -> None:
    """The lock file's mtime is when its template was last used (the template's own is when it
    was built)."""
    with contextlib.suppress(OSError):
        private_file(lock_path)
        os.utime(lock_path)


def prune_stale_templates(cache_dir: Path, *, keep: Path) -> None:
    """Templates of other versions or passwords unused for STALE_TEMPLATE_DAYS are deleted
    (each is a few MB; an old one is rebuilt if ever asked for again). One being built or
    used right now holds its lock and is skipped."""
    cutoff = time.time() - STALE_TEMPLATE_DAYS * 24 * 60 * 60
    for lock_path in cache_dir.glob("template-*.sqlite.lock"):
        template = lock_path.with_suffix("")
        with contextlib.suppress(OSError):
            if template == keep or lock_path.stat().st_mtime > cutoff:
                continue
            with lock_path.open("a") as lock:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                template.unlink(missing_ok=True)
                lock_path.unlink()
            log.info("tryton bootstrap: removed the stale template %s", template.name)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (WAL included) written to a temporary name, 0600, then renamed."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    private_file(partial)
    try:
        with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


async def build_template(template: Path, password: str) -> None:
    build_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=template.parent))
    os.chmod(build_dir, PRIVATE_DIR_MODE)
    try:
        server = TrytonServer(state_dir=build_dir, port=free_port(), database=TEMPLATE_DATABASE, password=password)
        server.write_config()
        private_file(server.database_file)  # trytond-admin initialises an existing, empty file only
        started = time.perf_counter()
        await activate_modules(server, password)
        log.info("tryton bootstrap: modules activated in %.1f s", time.perf_counter() - started)
        started = time.perf_counter()
        try:
            async with server, server.endpoint.rpc(timeout=120.0) as rpc:
                await populate(
                    rpc, items=load_json(ITEMS_SEED), suppliers=load_json(SUPPLIERS_SEED), today=dt.date.today()
                )
        except TrytonServerError:
            raise
        except Exception as exc:
            raise TrytonBootstrapError(f"tryton master data failed: {exc}\n{log_tail(server.log_file)}") from exc
        log.info("tryton bootstrap: master data in %.1f s", time.perf_counter() - started)
        await asyncio.to_thread(copy_sqlite, server.database_file, template)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


async def activate_modules(server: TrytonServer, password: str) -> None:
    """`trytond-admin` activating MODULES (and their dependencies) in the server's database."""
    admin = tryton_executable("trytond-admin")
    password_file = private_file(server.tryton_dir / "admin.password")
    password_file.write_text(password + "\n")
    admin_log = server.tryton_dir / "trytond-admin.log"
    command = [str(admin), "-c", str(server.config_file.resolve()), "-d", server.database,
               "--all", "--activate-dependencies", "-u", *MODULES]  # fmt: skip
    with private_file(admin_log).open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=server.tryton_dir,
            env={**child_environment(), "TRYTONPASSFILE": str(password_file)},
            stdin=asyncio.subprocess.PIPE,
            stdout=output,
            stderr=output,
            start_new_session=True,
            preexec_fn=prepare_child,
        )
    try:
        await asyncio.wait_for(process.communicate(b"\n"), ADMIN_TIMEOUT_SECONDS)  # "\n": no e-mail for admin
    except BaseException as exc:  # timeout or cancelled: the child must not outlive us
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if isinstance(exc, TimeoutError):
            raise TrytonBootstrapError(
                f"trytond-admin did not finish within {ADMIN_TIMEOUT_SECONDS:.0f}s:\n{log_tail(admin_log)}"
            ) from None
        raise
    finally:
        password_file.unlink(missing_ok=True)
    if process.returncode != 0:
        raise TrytonBootstrapError(f"trytond-admin exited with {process.returncode}:\n{log_tail(admin_log)}")
