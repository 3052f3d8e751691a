"""What the server holds between requests: the store, accounts, sessions, the policy set and compiled runners."""
from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from cadre_policy.language.titles import titled
from cadre_policy.run.engines import default_engine
from cadre_policy.store.fact_store import FactStore, Scope, scope_of
from cadre_policy.decisions.store import RecordStore
from cadre_policy.accounts.users import Account, Accounts
from cadre_policy.serve.jobs import Jobs
from cadre_policy.serve.security import LoginLimiter, Sessions

UNITS_TTL = 60.0          # seconds a date's units (with structure findings) are reused


@dataclass
class Config:
    """How the server was started."""
    db_url: str
    policies: str
    engine: str | None = None          # None: durable_rules for checks, columnar for what-if jobs (as the CLI)
    whatif_workers: int | None = None  # None: all cores, as `policy whatif` (whatif.parallel.default_workers)
    login_attempts: int = 5
    job_seconds: float = 1800.0        # a what-if job's time limit
    max_jobs: int = 8                  # unfinished what-if jobs at once (each user: at most 2)

    @property
    def check_engine(self) -> str:
        return default_engine(self.engine, population=False)

    @property
    def whatif_engine(self) -> str:
        return default_engine(self.engine, population=True)


class Runners:
    """Compiled policy runners by date, and the units as the rules see them on that date.

    durable_rules keeps its rulesets in one C module: evaluations on one runner are
    serialised by a lock (each takes milliseconds); different dates run side by side.
    At most ``size`` dates are kept; an evicted runner's rulesets are deleted from
    durable_rules once no request is using it (else every new date would keep about
    0.5 MB for the life of the process).
    """

    def __init__(self, policy_set, engine: str, store: FactStore, size: int = 16):
        self.policy_set, self.engine, self.store, self.size = policy_set, engine, store, size
        self._runners: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.freed = 0                       # runners closed after eviction (for tests and the harness)

    @contextmanager
    def use(self, day: date):
        """``with runners.use(day) as (runner, units):`` the runner for a date, compiled on first use, held."""
        entry = self._take(day)
        try:
            with entry["lock"]:
                if entry["units"] is None or time.time() - entry["at"] > UNITS_TTL:
                    from cadre_policy.run.population import units_for
                    entry["units"], entry["at"] = units_for(entry["runner"], self.store), time.time()
                yield entry["runner"], entry["units"]
        finally:
            with self._lock:
                entry["users"] -= 1
                if entry["evicted"] and entry["users"] == 0:
                    self._free(entry)

    def _take(self, day: date) -> dict:
        from cadre_policy.run.evaluate import PolicyRunner
        with self._lock:
            entry = self._runners.get(day)
            if entry is not None:
                self._runners.move_to_end(day)
                entry["users"] += 1
                return entry
        runner = PolicyRunner(titled(self.policy_set, day), day, self.engine)
        fresh = {"runner": runner, "lock": threading.Lock(), "units": None, "at": 0.0, "users": 0,
                 "evicted": False}
        with self._lock:
            entry = self._runners.setdefault(day, fresh)
            entry["users"] += 1
            while len(self._runners) > self.size:
                _, old = self._runners.popitem(last=False)
                old["evicted"] = True
                if old["users"] == 0:
                    self._free(old)
        if entry is not fresh:                 # another request compiled this date meanwhile
            runner.close()
        return entry

    def _free(self, entry: dict) -> None:
        entry["runner"].close()
        self.freed += 1

    def forget_units(self) -> None:
        """After an import: units and structure findings are read again."""
        with self._lock:
            for entry in self._runners.values():
                entry["units"] = None

    def close(self) -> None:
        with self._lock:
            for entry in self._runners.values():
                if entry["users"] == 0:
                    self._free(entry)
            self._runners.clear()


@dataclass
class Workbench:
    """The server's state, built once at start-up (``app.state.workbench``)."""
    config: Config
    store: FactStore
    policy_set: object
    accounts: Accounts
    records: RecordStore
    runners: Runners
    sessions: Sessions = field(default_factory=Sessions)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    jobs: Jobs = field(default_factory=Jobs)

    @classmethod
    def open(cls, config: Config) -> "Workbench":
        from cadre_policy.load.policyset import load
        store = FactStore(config.db_url)
        if store.dialect == "sqlite" and store.engine.url.database not in (None, "", ":memory:"):
            # write-ahead log: record writes and a what-if job's long reads do not block each other
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        policy_set = load(config.policies)
        return cls(config, store, policy_set, Accounts(store.engine), RecordStore(store.engine),
                   Runners(policy_set, config.check_engine, store), limiter=LoginLimiter(config.login_attempts),
                   jobs=Jobs(per_user=min(2, config.max_jobs), total=config.max_jobs, seconds=config.job_seconds))

    _units: tuple = (0.0, None)

    def titled(self, day: date):
        """The policy set with titles and notes that follow the parameters in force on ``day``."""
        return titled(self.policy_set, day)

    def default_day(self) -> date | None:
        """The store's default evaluation date (`policy store set-date`, the 本库设置 page); None: today.
        Read on every request (one primary-key row): a change applies at once, in every worker."""
        from cadre_policy.store.settings import default_as_of
        return default_as_of(self.store)

    def units(self) -> dict:
        """The store's units, read again at most every UNITS_TTL seconds (and after an import)."""
        at, units = self._units
        if units is None or time.time() - at > UNITS_TTL:
            units = self.store.units()
            self._units = (time.time(), units)
        return units

    def forget_units(self) -> None:
        """After an import: units, and the structure findings built on them, are read again."""
        self._units = (0.0, None)
        self.runners.forget_units()

    def scope(self, account: Account, day: date) -> Scope | None:
        """The cadres an account may see when asking about ``day`` (None: every cadre).

        The one place scope is decided: every endpoint that reads cadres goes through it
        (serve/access.py names each route's kind; tests/test_serve_scope.py checks them).
        A cadre is in scope when they hold a post in the account's units (or those below)
        on the day asked about *and* today: the document read is today's record, so the
        officer must be responsible for the cadre now, and a past date cannot widen that.
        """
        if not account.units:
            return None
        return dataclasses.replace(scope_of(self.units(), account.units, day), also=date.today())

    def regions(self, account: Account) -> set[str] | None:
        """The regions (counties, the city) an account's units lie in (None: all)."""
        if not account.units:
            return None
        units = self.units()
        return {units[u].get("region") for u in account.units if u in units and units[u].get("region")}

    def close(self) -> None:
        self.jobs.close()
        self.runners.close()
        self.store.close()
