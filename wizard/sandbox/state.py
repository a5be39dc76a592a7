"""The emulated tenants' state: data, rights, expired secrets, usage, latency.

:class:`SandboxState` is what tests change between two verifications (drift) and what the
request handler (``handler.py``) reads. All scenario users share one seeded data set but have
separate rights, usage counters and faults, as if each were its own tenant. Each sees the data
in its own time zone: the same local dates, served as the UTC instants of its local midnights.
State is guarded by one lock, so the sandbox can serve many threads at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from wizard.autotask.dates import today_in
from wizard.sandbox.data import DEFAULT_TIME_ZONE, Dataset, build_dataset
from wizard.sandbox.entities import ENTITIES, ENTITY_BY_LOWER, JsonDict
from wizard.sandbox.scenarios import SCENARIOS, Access, Scenario
from wizard.sandbox.wire import REQUEST_THRESHOLD, THRESHOLD_TIMEFRAME_MINUTES, SandboxTimeout


class SandboxState:
    """The state behind a :class:`~wizard.sandbox.handler.Sandbox`, and its drift-test API."""

    def __init__(
        self,
        integration_code: str,
        *,
        base_url: str,
        latency: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        today: date | None = None,
        threshold_latency: bool = True,
    ) -> None:
        self.integration_code = integration_code
        self.base_url = base_url
        self.latency = latency
        self.threshold_latency = threshold_latency
        self._sleep = sleep
        self._fixed_today = today
        self._lock = threading.RLock()
        # One data set per (time zone, date style): the same records, dates serialised as
        # that tenant's Autotask would. Built when a scenario of that zone first asks.
        self._datasets: dict[tuple[str, bool], Dataset] = {}
        # Fields changed through update_record, replayed onto every data set (also those
        # built later or reseeded), so every scenario sees the same change.
        self._overrides: dict[tuple[str, int], dict[str, Any]] = {}
        self._access: dict[tuple[str, str], Access] = {}
        self._expired: set[str] = set()
        self._costs_hidden: dict[str, bool] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._usage: dict[str, deque[float]] = {}
        self._flaky_calls: Counter[str] = Counter()
        self._in_flight: Counter[tuple[str, str, str]] = Counter()
        # Per user: extra seconds on every answer (a hanging Autotask for one tenant), and the
        # most authenticated calls ever in flight at once (what a concurrency cap let through).
        self._extra_latency: dict[str, float] = {}
        self._user_in_flight: Counter[str] = Counter()
        self._peak_in_flight: Counter[str] = Counter()

    # -- configuration -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        # zoneInformation's url always ends with "/" (reference section 1.2).
        self._base_url = value if value.endswith("/") else value + "/"

    @property
    def web_url(self) -> str:
        """The web UI host: ``webservicesN`` becomes ``wwN`` (reference section 1.1)."""
        parts = urlsplit(self.base_url)
        host = parts.netloc
        if host.lower().startswith("webservices"):
            host = "ww" + host[len("webservices") :]
        return f"{parts.scheme}://{host}/"

    @property
    def today(self) -> date:
        """Today in the default time zone (see :meth:`today_in`)."""
        return self.today_in(DEFAULT_TIME_ZONE)

    def today_in(self, time_zone: str) -> date:
        """The tenant's today: the fixed date if one was given, else the date in that zone."""
        return self._fixed_today or today_in(time_zone)

    def scenario_for(self, username: str) -> Scenario | None:
        """The scenario of a username (case-insensitive), or None for an unknown user."""
        return SCENARIOS.get(username.strip().lower())

    def access_for(self, username: str, entity: str) -> Access:
        user = username.strip().lower()
        with self._lock:
            override = self._access.get((user, entity))
        if override is not None:
            return override
        scenario = self.scenario_for(user)
        if scenario is None:
            return Access()
        return scenario.access.get(entity, Access())

    # -- mutations, for drift tests --------------------------------------------------------------

    def expire_secret(self, username: str) -> None:
        """From now on the user's secret is rejected with 401, as after a password expiry."""
        with self._lock:
            self._expired.add(username.strip().lower())

    def restore_secret(self, username: str) -> None:
        with self._lock:
            self._expired.discard(username.strip().lower())

    def set_access(
        self,
        username: str,
        entity: str,
        *,
        query: int | None = None,
        create: int | None = None,
        update: int | None = None,
        delete: int | None = None,
    ) -> None:
        """Change the user's rights on one entity (0 None, 1 All, 2 Restricted)."""
        canonical = ENTITY_BY_LOWER.get(entity.lower())
        if canonical is None:
            raise ValueError(f"Unknown entity {entity!r}; choose one of {', '.join(ENTITIES)}.")
        changes = {"query": query, "create": create, "update": update, "delete": delete}
        for name, level in changes.items():
            if level is not None and level not in (0, 1, 2):
                raise ValueError(f"{name} must be 0, 1 or 2, not {level!r}.")
        current = self.access_for(username, canonical)
        updated = replace(current, **{k: v for k, v in changes.items() if v is not None})
        with self._lock:
            self._access[(username.strip().lower(), canonical)] = updated

    def set_latency(self, username: str, seconds: float) -> None:
        """Add ``seconds`` to every answer to this user, the zone lookup included (0 undoes it)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        with self._lock:
            self._extra_latency[username.strip().lower()] = seconds

    def peak_in_flight(self, username: str) -> int:
        """The most authenticated calls of this user that were ever answered at the same time."""
        with self._lock:
            return self._peak_in_flight[username.strip().lower()]

    def set_costs_hidden(self, username: str, hidden: bool = True) -> None:
        with self._lock:
            self._costs_hidden[username.strip().lower()] = hidden

    def end_contract(self, contract_id: int, on: date) -> None:
        """Set a contract's end date, e.g. to yesterday to make a passing contract fail."""
        self.update_record("Contracts", contract_id, endDate=on)

    def update_record(self, entity: str, record_id: int, **fields: Any) -> None:
        """Overwrite fields of a seeded record, for every scenario (kept across reseeds).

        A ``datetime.date`` value is a date-only field: each tenant gets it as the UTC
        instant of its own local midnight.
        """
        canonical = ENTITY_BY_LOWER.get(entity.lower(), entity)
        with self._lock:
            if record_id not in self._data().records[canonical]:
                raise KeyError(f"{canonical} {record_id} does not exist in the sandbox.")
            key = (canonical, record_id)
            self._overrides[key] = {**self._overrides.get(key, {}), **fields}
            for dataset in self._datasets.values():
                self._apply_overrides(dataset, {key: fields})

    def records(self, entity: str, time_zone: str = DEFAULT_TIME_ZONE) -> list[JsonDict]:
        """A copy of every record of an entity as a tenant in ``time_zone`` gets it, by id."""
        with self._lock:
            rows = self._data(time_zone).records[ENTITY_BY_LOWER.get(entity.lower(), entity)]
            return [dict(rows[i]) for i in sorted(rows)]

    # -- counters --------------------------------------------------------------------------------

    def request_count(self, username: str | None = None, endpoint: str | None = None) -> int:
        """Requests received, optionally for one username and/or endpoint.

        ``endpoint`` is case-insensitive and matches itself and everything under it:
        ``"Companies"`` counts ``Companies/query``, ``Companies/{id}``, ...
        """
        user = None if username is None else username.strip().lower()
        wanted = None if endpoint is None else endpoint.strip("/").lower()
        with self._lock:
            items = list(self._counts.items())
        return sum(
            count
            for (who, where), count in items
            if (user is None or who == user)
            and (
                wanted is None or where.lower() == wanted or where.lower().startswith(wanted + "/")
            )
        )

    def reset_counts(self) -> None:
        """Forget request counts and threshold usage (not faults, rights or data)."""
        with self._lock:
            self._counts.clear()
            self._usage.clear()
            self._peak_in_flight.clear()

    def stats(self) -> JsonDict:
        with self._lock:
            by_user: Counter[str] = Counter()
            by_endpoint: Counter[str] = Counter()
            in_flight: Counter[str] = Counter()
            for (_code, _user, where), count in self._in_flight.items():
                if count:
                    in_flight[where] += count
            for (who, where), count in self._counts.items():
                by_user[who] += count
                by_endpoint[where] += count
            return {
                "total": sum(self._counts.values()),
                "byUser": dict(sorted(by_user.items())),
                "byEndpoint": dict(sorted(by_endpoint.items())),
                "inFlight": dict(in_flight),
                "peakInFlight": dict(sorted(self._peak_in_flight.items())),
            }

    # -- helpers -----------------------------------------------------------------------------------

    def _data(self, time_zone: str = DEFAULT_TIME_ZONE, fractional: bool = False) -> Dataset:
        """The data set of a tenant in ``time_zone``, reseeded when its local date moved on
        (only if ``today`` is not fixed), so "this month" is always the tenant's month."""
        with self._lock:
            key = (time_zone, fractional)
            today = self.today_in(time_zone)
            dataset = self._datasets.get(key)
            if dataset is None or dataset.today != today:
                dataset = build_dataset(today, time_zone, fractional=fractional)
                self._apply_overrides(dataset, self._overrides)
                self._datasets[key] = dataset
            return dataset

    def _data_of(self, scenario: Scenario | None) -> Dataset:
        if scenario is None:
            return self._data()
        return self._data(scenario.time_zone, scenario.fractional_dates)

    @staticmethod
    def _apply_overrides(
        dataset: Dataset, overrides: Mapping[tuple[str, int], Mapping[str, Any]]
    ) -> None:
        for (entity, record_id), fields in overrides.items():
            records = dataset.records[entity]
            if record_id not in records:
                continue
            values = {
                name: dataset.at_date(value)
                if isinstance(value, date) and not isinstance(value, datetime)
                else value
                for name, value in fields.items()
            }
            # Copy on write: readers iterate snapshots without holding the lock.
            records[record_id] = {**records[record_id], **values}

    def _count(self, username: str, endpoint: str) -> None:
        with self._lock:
            self._counts[(username.lower(), endpoint)] += 1

    def _record_usage(self, user: str) -> None:
        with self._lock:
            self._usage.setdefault(user, deque()).append(time.monotonic())

    def _used(self, user: str) -> int:
        """Authenticated requests of this user in the rolling threshold window."""
        horizon = time.monotonic() - THRESHOLD_TIMEFRAME_MINUTES * 60
        with self._lock:
            window = self._usage.get(user)
            if window is None:
                return 0
            while window and window[0] < horizon:
                window.popleft()
            return len(window)

    def _latency_for(
        self, username: str, scenario: Scenario | None, *, threshold: bool = True
    ) -> float:
        """The seconds an answer to ``username`` takes; ``threshold``: with Autotask's added
        delay near the hourly request threshold."""
        with self._lock:
            seconds = self.latency + self._extra_latency.get(username.lower(), 0.0)
        if scenario is None:
            return seconds
        seconds += scenario.latency
        if threshold and self.threshold_latency and scenario.known_user:
            # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
            # from 50 % of the threshold Autotask adds 0.5 s per request, from 75 % 1 s.
            share = (scenario.threshold_start + self._used(username.lower())) / REQUEST_THRESHOLD
            seconds += 1.0 if share >= 0.75 else 0.5 if share >= 0.5 else 0.0
        return seconds

    def _delay(self, seconds: float, timeout: float | None) -> None:
        if seconds <= 0:
            return
        if timeout is not None and seconds > timeout:
            self._sleep(timeout)
            raise SandboxTimeout(f"The sandbox did not answer within {timeout} s.")
        self._sleep(seconds)
