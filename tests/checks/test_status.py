"""One type for a check's status: CheckStatus, its order, worst() and stored results."""

from __future__ import annotations

import json

import pytest

from wizard.checks import CheckResult, CheckStatus, worst


def test_statuses_are_declared_worst_first_with_the_pages_labels() -> None:
    assert [(s.value, s.label) for s in CheckStatus] == [
        ("fail", "Failed"),
        ("warn", "Warnings"),
        ("unknown", "Could not be checked"),
        ("pass", "Passed"),
    ]


def test_a_status_is_its_stored_string() -> None:
    # Templates and stored dicts compare plain strings: a status must equal its value.
    stored: dict[str, str] = {"status": "fail"}
    assert stored["status"] == CheckStatus.FAIL and f"{CheckStatus.FAIL}" == "fail"
    assert "warn" in {CheckStatus.WARN} and CheckStatus.WARN in {"warn"}


@pytest.mark.parametrize(
    ("status", "n", "words"),
    [
        (CheckStatus.FAIL, 1, "1 failed"),
        (CheckStatus.WARN, 1, "1 warning"),
        (CheckStatus.WARN, 3, "3 warnings"),
        (CheckStatus.UNKNOWN, 2, "2 could not be checked"),
        (CheckStatus.PASS, 7, "7 passed"),
    ],
)
def test_counted_says_how_many_in_words(status: CheckStatus, n: int, words: str) -> None:
    assert status.counted(n) == words


def result(status: str, check_id: str = "auth.secret") -> CheckResult:
    return CheckResult(check_id, CheckStatus(status), "A title", evidence="e")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["pass", "warn", "unknown"], CheckStatus.WARN),
        (["pass", "unknown"], CheckStatus.UNKNOWN),
        (["unknown", "fail", "warn"], CheckStatus.FAIL),
        (["pass", "pass"], CheckStatus.PASS),
    ],
)
def test_worst_is_the_same_for_results_and_stored_results(statuses, expected) -> None:
    results = [result(s) for s in statuses]
    assert worst(results) is expected
    assert worst([r.as_dict() for r in results]) is expected
    # Mixed, as a caller holding both would pass them.
    assert worst([results[0], *[r.as_dict() for r in results[1:]]]) is expected


def test_no_results_is_no_verdict_not_a_pass() -> None:
    assert worst([]) is None


def test_a_stored_result_reads_back_as_it_was_written() -> None:
    original = CheckResult(
        "contract.end-date",
        CheckStatus.WARN,
        "The contract's end date has not passed",
        evidence="It ends within a month.",
        fix="Renew it.",
        subject="Contoso Ltd: contract #2001",
        error="",
    )
    stored = json.loads(json.dumps(original.as_dict()))  # as the JSONField keeps it

    assert stored["status"] == "warn" and type(stored["status"]) is str
    again = CheckResult.from_dict(stored)
    assert again == original
    assert again.status is CheckStatus.WARN


def test_from_dict_ignores_keys_it_does_not_know_and_fills_the_optional_ones() -> None:
    again = CheckResult.from_dict(
        {"id": "auth.secret", "status": "fail", "title": "t", "added_later": 1}
    )
    assert (again.evidence, again.fix, again.subject, again.error) == ("", "", "", "")


def test_an_unknown_status_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match="not a valid CheckStatus"):
        CheckResult.from_dict({"id": "auth.secret", "status": "passed", "title": "t"})
    with pytest.raises(ValueError, match="not a valid CheckStatus"):
        CheckResult("auth.secret", "ok", "t")  # type: ignore[arg-type]


def test_a_refused_credential_is_told_by_its_error_code() -> None:
    refused = CheckResult("auth.secret", CheckStatus.FAIL, "t", error="authentication_failed")
    throttled = CheckResult("connection", CheckStatus.UNKNOWN, "t", error="throttled")
    assert refused.refused_credentials
    assert not throttled.refused_credentials
