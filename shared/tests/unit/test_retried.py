"""A unit of work run again when its commit lost a race (crm_platform.unit_of_work.retried)."""
import pytest

from crm_platform.event_store import ConcurrencyConflict
from crm_platform.unit_of_work import retried


def losing(times: int):
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= times:
            raise ConcurrencyConflict("written meanwhile")
        return len(calls)
    return attempt, calls


def test_an_attempt_that_loses_races_is_run_again_until_it_wins():
    attempt, calls = losing(2)
    assert retried(attempt, 3) == 3 and len(calls) == 3


def test_the_last_conflict_is_raised_once_the_attempts_run_out():
    attempt, calls = losing(3)
    with pytest.raises(ConcurrencyConflict):
        retried(attempt, 3)
    assert len(calls) == 3


def test_other_errors_are_not_retried():
    calls = []

    def attempt():
        calls.append(1)
        raise KeyError("not a race")
    with pytest.raises(KeyError):
        retried(attempt, 3)
    assert len(calls) == 1
