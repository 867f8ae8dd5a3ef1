"""Fixtures of the browser end-to-end suite (docs/ui.md, "Browser tests").

Run with `make test-e2e` (or `pytest -m e2e tests/e2e`); the default `pytest` run
deselects everything marked `e2e`. Session fixtures: the prerequisites (Chromium,
Playwright, axe-core), `e2e_server` (uvicorn on its own migrated and seeded database),
`browser`, `story` (state shared by the flows, in file order), `celery_worker` (on demand).
Per test: `users` (browser contexts per user, screenshots, axe checks).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e import harness
from tests.e2e.browser import Artifacts, Axe, Users
from tests.e2e.flows import Story

E2E_ROOT = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is an e2e test (so `-m "not e2e"` leaves it out)."""
    for item in items:
        if E2E_ROOT in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture(scope="session")
def e2e_prerequisites():
    """Chromium (apt when missing and root), Playwright for Python, axe-core (npm ci); else skip."""
    try:
        harness.ensure_playwright()
        chromium = harness.ensure_chromium()
        axe_js = harness.ensure_axe()
    except harness.Unavailable as exc:
        print(f"\ne2e: skipped: {exc}", flush=True)
        pytest.skip(str(exc))
    return {"chromium": chromium, "axe": axe_js}


@pytest.fixture(scope="session")
def artifacts():
    return Artifacts(harness.ARTIFACTS)


@pytest.fixture(scope="session")
def e2e_server(e2e_prerequisites):
    server = harness.E2EServer()
    try:
        server.prepare()
        server.start()
        if os.environ.get("E2E_CELERY") == "1":
            server.start_worker()
        print(f"\ne2e: server {server.url} (log {server.log_path})", flush=True)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def celery_worker(e2e_server):
    """A Celery worker with beat against the e2e server's database (deadline sweeps, tasks)."""
    e2e_server.start_worker()
    return e2e_server


@pytest.fixture(scope="session")
def browser(e2e_prerequisites):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    chromium = pw.chromium.launch(
        executable_path=e2e_prerequisites["chromium"], headless=True, args=harness.CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()


@pytest.fixture(scope="session")
def axe(e2e_prerequisites, artifacts):
    return Axe(e2e_prerequisites["axe"], artifacts)


@pytest.fixture(scope="session")
def login_cache():
    return {}


@pytest.fixture(scope="session")
def story(e2e_server):
    return Story(acceleration=float(e2e_server.env["SANDBOX_TIME_ACCELERATION"]))


@pytest.fixture
def users(request, browser, e2e_server, artifacts, axe, login_cache):
    u = Users(browser, e2e_server.url, artifacts, axe, login_cache)
    yield u
    failed = getattr(request.node, "e2e_failed", False)
    u.close(failed_name=request.node.name if failed else None)
