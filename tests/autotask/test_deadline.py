"""A page's overall Autotask deadline, and the per-tenant concurrency cap.

Time here is a fake clock that the sandbox's emulated latency advances: a 60-second hang costs
the test nothing, and "how long did the page wait" is exact, not measured. The cap tests use
real threads against the sandbox with a short real latency and assert on how many calls the
sandbox saw at once, never on durations.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.core.cache.backends.locmem import LocMemCache

from tests.autotask.conftest import BASE, USERNAME, ZONE_URL
from wizard import checks
from wizard.autotask import (
    AutotaskClient,
    Busy,
    Credentials,
    DeadlineExceeded,
    TimedOut,
    Unavailable,
    Zone,
    build_session,
    limits,
)
from wizard.cache_slots import CacheSlots, FallbackSlots, is_shared
from wizard.sandbox import SANDBOX_SECRET, Sandbox, install_sandbox

CODE = "DEADLINE-CODE"
ZONE_LOOKUP = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
SANDBOX_BASE = "https://webservices-sandbox.autotask.test/ATServicesRest/"
HANGING = "healthy@sandbox.example"
TODAY = datetime.date(2026, 11, 26)


def known_zone_cache() -> dict[str, Zone]:
    return {USERNAME: Zone(name="America West 2", url=ZONE_URL, web_url="", ci=301944)}


class FakeClock:
    """monotonic() and sleep() in one: sleeping moves the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    return Sandbox(
        CODE, base_url=SANDBOX_BASE, sleep=clock.sleep, today=TODAY, threshold_latency=False
    )


@pytest.fixture
def make(sandbox: Sandbox, clock: FakeClock) -> Callable[..., AutotaskClient]:
    def make(username: str = HANGING, **kwargs: Any) -> AutotaskClient:
        session = build_session()
        install_sandbox(session, sandbox, ZONE_LOOKUP)
        kwargs.setdefault("zone_cache", {})
        return AutotaskClient(
            Credentials(username, SANDBOX_SECRET, CODE),
            zone_information_url=ZONE_LOOKUP,
            session=session,
            clock=clock,
            sleep=clock.sleep,
            **kwargs,
        )

    return make


# --- the deadline -------------------------------------------------------------------------------


def test_a_page_gives_up_on_a_hanging_autotask_at_its_deadline(make, sandbox, clock) -> None:
    sandbox.set_latency(HANGING, 60)
    client = make(timeout=15, deadline=20, max_retries=0)
    started = clock.now

    with pytest.raises(TimedOut):
        client.discover_zone()  # the call's own timeout: 15 s
    with pytest.raises(DeadlineExceeded) as caught:
        client.discover_zone()  # only 5 s were left of the page's 20
    with pytest.raises(DeadlineExceeded):
        client.get_threshold()  # past the deadline: not even sent

    assert clock.now - started == 20
    assert sandbox.request_count(HANGING) == 2
    assert caught.value.user_message == (
        "Autotask did not answer in time, so this could not be checked. Try again later; "
        "nothing you saved is lost."
    )


def test_without_a_deadline_background_work_waits_for_each_retry(make, sandbox, clock) -> None:
    sandbox.set_latency(HANGING, 60)
    client = make(timeout=15, max_retries=3, backoff_factor=0.5)
    started = clock.now

    with pytest.raises(TimedOut):
        client.discover_zone()

    # The finding's 63.5 s: 4 tries of 15 s and the waits between them. Fine for a background
    # re-check, which no one waits for; never again for a page.
    assert clock.now - started == 4 * 15 + 0.5 + 1 + 2
    assert sandbox.request_count(HANGING) == 4


def test_a_verification_against_a_hanging_autotask_is_unknown_within_the_deadline(
    make, sandbox, clock
) -> None:
    sandbox.set_latency(HANGING, 60)
    client = make(timeout=15, deadline=20, max_retries=0)
    started = clock.now

    by_step = checks.run(client, checks.Inputs(today=TODAY))

    results = by_step["api-user"]
    assert [(r.id, r.status, r.error) for r in results] == [("connection", "unknown", "timed_out")]
    assert "Autotask did not answer in time" in results[0].evidence
    assert "nothing you saved is lost" in results[0].evidence
    assert clock.now - started <= 20
    assert sandbox.request_count(HANGING) == 1  # no retry


def test_the_reads_after_signing_in_stop_at_the_deadline(make, sandbox, clock) -> None:
    # Signing in is quick; then every read hangs. Each read waits at most what is left.
    client = make(timeout=15, deadline=20, max_retries=0, zone_cache={})
    client.discover_zone()
    client.get_threshold()
    sandbox.set_latency(HANGING, 60)
    sandbox.reset_counts()
    started = clock.now

    with pytest.raises(TimedOut):
        client.entity_information("Contracts")  # its own 15 s timeout
    for entity in ("Companies", "Services", "Products"):
        with pytest.raises(DeadlineExceeded):
            client.entity_information(entity)  # the 5 s left, then nothing

    assert clock.now - started == 20
    assert sandbox.request_count() == 2


def test_a_retry_wait_past_the_deadline_is_not_taken(
    mocked_responses, make_client, sleeps, clock
) -> None:
    rsp = mocked_responses.get(BASE + "ThresholdInformation", status=503)
    client = make_client(
        zone_cache=known_zone_cache(), max_retries=3, backoff_factor=2, deadline=1, clock=clock
    )

    with pytest.raises(Unavailable):
        client.get_threshold()

    assert rsp.call_count == 1
    assert sleeps == []


def test_a_retry_that_fits_the_deadline_is_made(
    mocked_responses, make_client, sleeps, clock
) -> None:
    mocked_responses.get(BASE + "ThresholdInformation", status=503)
    client = make_client(
        zone_cache=known_zone_cache(), max_retries=3, backoff_factor=0.5, deadline=10, clock=clock
    )

    with pytest.raises(Unavailable):
        client.get_threshold()

    assert sleeps == [0.5, 1.0, 2.0]


def test_the_timeout_sent_is_cut_to_what_is_left_of_the_deadline(
    mocked_responses, make_client, clock
) -> None:
    seen: list[Any] = []

    def record(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append(request.req_kwargs["timeout"])  # type: ignore[attr-defined]
        clock.now += 3  # Autotask takes 3 s
        return (
            200,
            {},
            '{"externalRequestThreshold": 1, "requestThresholdTimeframe": 60, '
            + ('"currentTimeframeRequestCount": 0}'),
        )

    mocked_responses.add_callback("GET", BASE + "ThresholdInformation", callback=record)
    client = make_client(zone_cache=known_zone_cache(), timeout=15, deadline=5, clock=clock)

    client.get_threshold()
    client.get_threshold()

    assert seen == [5, 2]


# --- the concurrency cap ------------------------------------------------------------------------


def _hammer(clients: list[AutotaskClient], per_client: int) -> list[BaseException]:
    """Each client reads ``per_client`` different entities at once, from its own threads."""
    entities = [
        *("Companies", "Contracts", "ContractServices"),
        *("ContractServiceUnits", "Services", "Products"),
    ]
    errors: list[BaseException] = []

    def read(client: AutotaskClient, entity: str) -> None:
        try:
            client.entity_information(entity)
        except BaseException as e:  # collected and asserted on below
            errors.append(e)

    threads = [
        threading.Thread(target=read, args=(c, entities[i % len(entities)]))
        for c in clients
        for i in range(per_client)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def real_client(sandbox: Sandbox, limiter: limits.Limiter, **kwargs: Any) -> AutotaskClient:
    """A client with a real clock, one tenant's ("tenant-a"), the zone already known."""
    session = build_session()
    install_sandbox(session, sandbox, ZONE_LOOKUP)
    return AutotaskClient(
        Credentials(HANGING, SANDBOX_SECRET, CODE),
        zone_information_url=ZONE_LOOKUP,
        session=session,
        zone_cache={HANGING: Zone(name="Sandbox", url=SANDBOX_BASE, web_url="", ci=1)},
        concurrency_key="tenant-a",
        limiter=limiter,
        max_retries=0,
        **kwargs,
    )


@pytest.fixture
def slow_sandbox() -> Sandbox:
    # Real (short) latency: the calls must overlap for the cap to matter.
    sandbox = Sandbox(CODE, base_url=SANDBOX_BASE, today=TODAY, threshold_latency=False)
    sandbox.set_latency(HANGING, 0.2)
    return sandbox


def test_a_tenant_has_at_most_its_cap_of_calls_in_flight_over_all_endpoints(
    slow_sandbox,
) -> None:
    client = real_client(slow_sandbox, limits.Limiter(limits.LocalSlots(), per_tenant=3))

    assert _hammer([client], per_client=8) == []

    # Before the tenant-wide cap, only each endpoint was capped (at 2): 6 endpoints, 8 at once.
    assert slow_sandbox.peak_in_flight(HANGING) == 3


def test_the_cap_is_shared_by_workers_through_the_cache(slow_sandbox) -> None:
    # Two workers: each its own client, limiter and slot store, no shared Python state, only
    # the cache (here two LocMemCache objects on one location, as two processes on one Redis).
    worker_a = LocMemCache("slots-shared", {})
    worker_b = LocMemCache("slots-shared", {})
    worker_a.clear()
    clients = [
        real_client(slow_sandbox, limits.Limiter(CacheSlots(cache, poll=0.01), per_tenant=2))
        for cache in (worker_a, worker_b)
    ]

    assert _hammer(clients, per_client=4) == []

    assert slow_sandbox.peak_in_flight(HANGING) == 2
    assert worker_a.get("atslot:tenant:tenant-a:0") is None  # every slot given back


def test_without_a_shared_cache_each_worker_caps_on_its_own(slow_sandbox) -> None:
    # The local-memory cache (the default, tests): per process, so 2 workers may reach 2 x 2.
    clients = [
        real_client(slow_sandbox, limits.Limiter(limits.LocalSlots(), per_tenant=2))
        for _worker in range(2)
    ]

    assert _hammer(clients, per_client=4) == []

    assert slow_sandbox.peak_in_flight(HANGING) == 4
    assert not is_shared(LocMemCache("slots-local", {}))


def test_a_full_cap_answers_busy_at_the_deadline_instead_of_hanging() -> None:
    limiter = limits.Limiter(limits.LocalSlots(), per_tenant=1)
    with (
        limiter.slot("tenant-a", "Companies", wait=None, lease=60),
        pytest.raises(Busy) as caught,
        limiter.slot("tenant-a", "Contracts", wait=0.05, lease=60),
    ):
        pytest.fail("the second call got a slot past the cap")

    assert caught.value.user_message == (
        "Autotask is still busy with earlier requests for your organisation, so this could not "
        "be checked in time. Try again in a minute; nothing you saved is lost."
    )
    # Another tenant is not held up by the first one's calls.
    with limiter.slot("tenant-b", "Companies", wait=0, lease=60):
        pass


def test_a_busy_client_reports_busy_without_calling_autotask(slow_sandbox) -> None:
    store = limits.LocalSlots()
    limiter = limits.Limiter(store, per_tenant=1)
    client = real_client(slow_sandbox, limiter, deadline=0.05)

    with limiter.slot("tenant-a", "Services", wait=None, lease=60), pytest.raises(Busy):
        client.entity_information("Companies")

    assert slow_sandbox.request_count(HANGING) == 0
    assert store.taken("endpoint:tenant-a:Companies") == 0  # its endpoint slot given back


def test_a_dead_workers_slot_comes_free_after_its_lease() -> None:
    cache = LocMemCache("slots-lease", {})
    cache.clear()
    slots = CacheSlots(cache, poll=0.01)
    assert slots.acquire("tenant:x", 1, lease=1, wait=0) is not None  # never released

    assert slots.acquire("tenant:x", 1, lease=1, wait=0) is None
    assert slots.acquire("tenant:x", 1, lease=1, wait=3) is not None  # free after 1 s


def test_a_late_release_leaves_the_next_holders_slot_alone() -> None:
    cache = LocMemCache("slots-release", {})
    cache.clear()
    slots = CacheSlots(cache)
    first = slots.acquire("tenant:x", 1, lease=60, wait=0)
    assert first is not None
    cache.delete("atslot:tenant:x:0")  # the lease ran out...
    second = slots.acquire("tenant:x", 1, lease=60, wait=0)  # ...and another worker took it
    assert second is not None

    slots.release("tenant:x", first)

    assert slots.acquire("tenant:x", 1, lease=60, wait=0) is None


class BrokenCache(LocMemCache):
    def add(self, *args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("Redis is down")


def test_an_unreachable_shared_cache_falls_back_to_per_process_slots() -> None:
    local = limits.LocalSlots()
    slots = FallbackSlots(CacheSlots(BrokenCache("slots-broken", {})), local)

    token = slots.acquire("tenant:x", 1, lease=60, wait=0)
    assert token is not None
    assert slots.acquire("tenant:x", 1, lease=60, wait=0) is None
    slots.release("tenant:x", token)
    assert local.taken("tenant:x") == 0
