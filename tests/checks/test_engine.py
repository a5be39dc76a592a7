"""The one orchestration: sign in first and alone, then the asked steps' reads at once.

Round trips are counted, not timed: the sandbox's latency goes through a fake sleep that lets
the calls asleep at the same moment finish together, as one round trip.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from wizard import checks
from wizard.autotask import AutotaskClient, Credentials, build_session
from wizard.checks import CheckStatus
from wizard.sandbox import DEFAULT_BASE_URL, SANDBOX_SECRET, Sandbox, install_sandbox

from .conftest import CODE, SYDNEY, TODAY, ZONE_URL

HEALTHY = "healthy@sandbox.example"
CUSTOMERS = [{"company_id": 101, "contract_id": 2001}, {"company_id": 102, "contract_id": 2002}]
ANNUAL = [{"company_id": 101, "contract_id": 2012}]
INPUTS = checks.Inputs(
    today=TODAY, customers=CUSTOMERS, sync_start="next", annual=ANNUAL, time_zone=SYDNEY
)


class RoundTrips:
    """A fake sleep for the sandbox's latency that counts round trips.

    The calls asleep at the same moment make one round trip: it ends (and they all answer)
    once ``settle`` seconds pass with no further call joining it. A call made only after
    another answered starts a new one, so a sequential run counts one round trip per call.
    """

    def __init__(self, settle: float = 0.3) -> None:
        self.settle = settle
        self._changed = threading.Condition()
        self._round = 0
        self._joined_at = 0.0
        self._members: Counter[int] = Counter()

    def __call__(self, _seconds: float) -> None:
        with self._changed:
            mine = self._round
            self._members[mine] += 1
            self._joined_at = time.monotonic()
            self._changed.notify_all()
            while self._round == mine:
                left = self._joined_at + self.settle - time.monotonic()
                if left <= 0:
                    self._round += 1
                    self._changed.notify_all()
                else:
                    self._changed.wait(left)

    @property
    def count(self) -> int:
        return len(self._members)

    def reset(self) -> None:
        with self._changed:
            self._members.clear()


@pytest.fixture
def rounds() -> RoundTrips:
    return RoundTrips()


@pytest.fixture
def slow_sandbox(rounds: RoundTrips) -> Sandbox:
    sandbox = Sandbox(
        CODE, base_url=DEFAULT_BASE_URL, today=TODAY, threshold_latency=False, sleep=rounds
    )
    # Every call of this user takes a (fake) second: only overlapping calls save time.
    sandbox.set_latency(HEALTHY, 1.0)
    return sandbox


@pytest.fixture
def slow_client(slow_sandbox: Sandbox, rounds: RoundTrips) -> Callable[[], AutotaskClient]:
    session = build_session()
    install_sandbox(session, slow_sandbox, ZONE_URL)
    zones: dict[str, object] = {}

    def make() -> AutotaskClient:
        client = AutotaskClient(
            Credentials(HEALTHY, SANDBOX_SECRET, CODE),
            zone_information_url=ZONE_URL,
            session=session,
            zone_cache=zones,  # type: ignore[arg-type]
            sleep=lambda _s: None,
        )
        if not zones:
            # The zone is known, as it is once the api-user step was verified.
            client.discover_zone()
        slow_sandbox.reset_counts()
        rounds.reset()
        return client

    return make


def test_the_security_level_step_alone_makes_its_six_reads_at_once(
    slow_client, slow_sandbox, rounds
) -> None:
    results = checks.run(slow_client(), INPUTS, {"security-level"})["security-level"]

    assert {r.status for r in results} == {CheckStatus.PASS}
    # The sign-in, then the five rights and the cost probe together (the per-tenant cap is 6).
    assert slow_sandbox.request_count(HEALTHY) == 7
    assert slow_sandbox.peak_in_flight(HEALTHY) == 6
    assert rounds.count == 2


@pytest.mark.parametrize("step", ["api-user", "security-level", "recurring-contract"])
def test_a_step_alone_takes_no_more_round_trips_than_the_review(slow_client, rounds, step) -> None:
    checks.run(slow_client(), INPUTS)
    review = rounds.count
    checks.run(slow_client(), INPUTS, {step})
    alone = rounds.count

    # Two round trips: the sign-in, then every read the step needs.
    assert alone == 2
    assert alone <= review


def test_a_step_alone_reads_only_what_it_judges(slow_client, slow_sandbox) -> None:
    checks.run(slow_client(), INPUTS, {"recurring-contract"})

    sent = slow_sandbox.stats()["byEndpoint"]
    assert sent == {
        "ThresholdInformation": 1,
        "Contracts/entityInformation/fields": 1,
        "Contracts/query": 1,
        "Companies/query": 1,
    }


# --- sign-in first and alone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "refused"),
    [
        ("wrong-secret", ("auth.secret", "authentication_failed")),
        ("unknown", ("auth.username", "unknown_username")),
        ("code-rejected", ("auth.integration-code", "integration_code_rejected")),
    ],
)
@pytest.mark.parametrize("step", ["security-level", "recurring-contract", "annual-contract"])
def test_a_refused_sign_in_is_the_whole_answer_of_a_step_verified_alone(
    client_for, sandbox, scenario, refused, step
) -> None:
    results = checks.run(client_for(scenario), INPUTS, {step})[step]

    assert [(r.id, r.status, r.error) for r in results] == [(*refused[:1], "fail", refused[1])]
    assert results[0].refused_credentials
    # Nothing after the refused sign-in: each refused call counts towards a lockout.
    assert sandbox.request_count(endpoint="ThresholdInformation") <= 1
    assert sandbox.request_count() <= 2


@pytest.mark.parametrize("scenario", ["throttled", "broken"])
def test_a_sign_in_without_an_answer_is_one_connection_result_per_step(
    client_for, scenario
) -> None:
    by_step = checks.run(client_for(scenario), INPUTS, {"security-level", "annual-contract"})

    assert list(by_step) == ["security-level", "annual-contract"]
    for results in by_step.values():
        assert [(r.id, r.status) for r in results] == [("connection", CheckStatus.UNKNOWN)]
        assert results[0].error


def test_the_review_keeps_the_sign_in_results_on_the_api_user_step(client_for, sandbox) -> None:
    by_step = checks.run(client_for("wrong-secret"), INPUTS)

    assert list(by_step) == ["api-user"]
    assert sandbox.request_count() == 2


# --- what is asked ------------------------------------------------------------------------------


def test_contract_steps_without_their_inputs_are_left_out(client_for) -> None:
    by_step = checks.run(client_for("healthy"), checks.Inputs(today=TODAY, time_zone=SYDNEY))
    assert list(by_step) == ["api-user", "security-level"]


def test_a_step_without_checks_is_refused_before_any_call(client_for, sandbox) -> None:
    with pytest.raises(ValueError, match="review"):
        checks.run(client_for("healthy"), INPUTS, {"review"})
    assert sandbox.request_count() == 0


# --- background runs ----------------------------------------------------------------------------


def test_a_background_run_that_reaches_nobody_raises_unreachable(client_for) -> None:
    with pytest.raises(checks.Unreachable):
        checks.run(client_for("throttled"), INPUTS, background=True)


def test_a_background_run_keeps_a_refused_sign_in_as_a_verdict(client_for) -> None:
    by_step = checks.run(client_for("wrong-secret"), INPUTS, background=True)
    assert checks.worst(by_step["api-user"]) == CheckStatus.FAIL


def test_a_background_run_above_the_usage_limit_is_postponed_after_the_sign_in(
    client_for, sandbox
) -> None:
    with pytest.raises(checks.Postponed) as postponed:
        checks.run(client_for("near-threshold"), INPUTS, background=True, postpone_above=0.5)
    assert postponed.value.usage_ratio > 0.5
    assert sandbox.request_count() == 2  # the zone and ThresholdInformation, nothing else


def test_the_same_usage_is_only_a_warning_for_a_person(client_for) -> None:
    by_step = checks.run(client_for("near-threshold"), INPUTS)
    threshold = next(r for r in by_step["api-user"] if r.id == "auth.threshold")
    assert threshold.status == CheckStatus.WARN


def test_postponing_is_for_background_runs_only(client_for, sandbox) -> None:
    with pytest.raises(ValueError, match="background"):
        checks.run(client_for("healthy"), INPUTS, postpone_above=0.5)
    assert sandbox.request_count() == 0
