"""Shared fixtures: a fact-store URL on every configured backend, and one CLI helper.

``store_url`` runs a test on SQLite (a temporary file), on PostgreSQL when
``POLICY_TEST_PG_URL`` is set and on MariaDB when ``POLICY_TEST_MYSQL_URL`` is set;
otherwise those variants are skipped with the reason shown in the summary. Each
test session works in its own PostgreSQL schema / MariaDB database, so runs on a
shared server do not collide, and every test drops its tables afterwards.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from cadre_policy import data
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).with_name("test_import_fixture.yaml")
SAMPLE = data.SAMPLE / "city.yaml"

_SERVERS = {
    "postgresql": ("POLICY_TEST_PG_URL", "PostgreSQL"),
    "mariadb": ("POLICY_TEST_MYSQL_URL", "MariaDB"),
}


def _namespaced(backend: str, url: str):
    """Create a private schema (PostgreSQL) or database (MariaDB); return (url, drop)."""
    name = f"policy_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if backend == "postgresql":
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
            private = make_url(url).update_query_dict({"options": f"-csearch_path={name}"})
            drop = f'DROP SCHEMA IF EXISTS "{name}" CASCADE'
        else:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
            private = make_url(url).set(database=name)
            drop = f"DROP DATABASE IF EXISTS `{name}`"

    def cleanup():
        with admin.connect() as conn:
            conn.execute(text(drop))
        admin.dispose()
    return private.render_as_string(hide_password=False), cleanup


@pytest.fixture(scope="session")
def server_urls():
    """Per-session private URLs of the configured servers (None when not configured)."""
    urls, cleanups = {}, []
    for backend, (var, _) in _SERVERS.items():
        url = os.environ.get(var)
        if url:
            urls[backend], cleanup = _namespaced(backend, url)
            cleanups.append(cleanup)
        else:
            urls[backend] = None
    yield urls
    for cleanup in cleanups:
        cleanup()


def _backend_url(request, backend: str, tmp_path):
    """A database URL for the fact store on ``backend``; a server's tables are dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'facts.db'}"
        return
    var, label = _SERVERS[backend]
    if not os.environ.get(var):
        pytest.skip(f"{label} not configured: set {var}")
    url = request.getfixturevalue("server_urls")[backend]
    yield url
    from cadre_policy.store.models import metadata
    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def store_url(request, tmp_path):
    """A database URL for the fact store on each backend."""
    yield from _backend_url(request, request.param, tmp_path)


@pytest.fixture(params=["postgresql", "mariadb"])
def server_url(request, tmp_path):
    """A database URL on each database server (skipped when not configured)."""
    yield from _backend_url(request, request.param, tmp_path)


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """Tests read messages in English unless they choose (``--lang zh``, ``i18n.using``).

    The product's default is Chinese (tests/test_i18n.py checks it and that every
    message has its translation); assertions on message text stay readable this way.
    """
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    from cadre_policy import i18n
    i18n.set_language(None)          # an in-process `--lang zh` of an earlier test chose for this one too


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """A SQLite store holding the sample city, shared by a module's tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    return url


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite fact-store URL (for tests that do not depend on the backend)."""
    return f"sqlite:///{tmp_path / 'facts.db'}"


@pytest.fixture
def store(store_url):
    """An open FactStore on ``store_url``."""
    from cadre_policy.store.fact_store import FactStore
    with FactStore(store_url) as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def _policy_cache(tmp_path_factory):
    """The start-up cache of this test session, away from the user's own."""
    os.environ["POLICY_CACHE_DIR"] = str(tmp_path_factory.mktemp("policy-cache"))


def invoke(db_url: str, *args: str):
    """Run ``policy --db DB_URL ARGS...`` in-process; return click's Result (stdout/stderr apart)."""
    from cadre_policy import cli
    return CliRunner().invoke(cli.main, ["--db", db_url, *map(str, args)], catch_exceptions=False)


@pytest.fixture
def run_cli():
    """The :func:`invoke` helper, as a fixture."""
    return invoke


@pytest.fixture(scope="session")
def workbench_server(tmp_path_factory):
    """One real `policy serve` for the API and browser tests (see tests/serve_server.py)."""
    from serve_server import Server, prepare_store
    tmp = tmp_path_factory.mktemp("serve")
    running = Server(prepare_store(tmp), tmp)
    yield running
    running.stop()
