"""`answer_once` on the in-memory records: a request that got no answer is freed only if it was never sent."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask

from crm_platform.errors import DependencyUnavailable

from gateway.adapters.accounts import Caller
from gateway.adapters.upstream import BadUpstreamResponse, UpstreamFailed, UpstreamNotReached, UpstreamTimeout
from gateway.domain.replay import IdempotencyOutcomeUnknown
from gateway.entrypoints.idempotency import answer_once

from gateway.testing.fakes import InMemoryIdempotencyRecords

CALLER = Caller("acct-1", "key-1")


@pytest.fixture
def container():
    return SimpleNamespace(idempotency_secret=b"s" * 32, idempotency_records=InMemoryIdempotencyRecords(),
                           in_flight_stale_after=timedelta(seconds=17))


def send_twice(container, failure):
    """The same POST with the same key twice, each run failing with `failure`: what the retry raises, and how
    many times the request was performed."""
    performed = []

    def perform():
        performed.append(1)
        raise failure

    def post():
        with Flask(__name__).test_request_context("/v1/contacts/c-1/notes", method="POST", json={"text": "Lundi"}):
            return answer_once(container, CALLER, "k-1", b'{"text": "Lundi"}', perform, read_back=None)

    with pytest.raises(type(failure)):
        post()
    with pytest.raises(Exception) as retry:
        post()
    return retry.value, len(performed)


@pytest.mark.parametrize("failure", [
    UpstreamTimeout("the contacts service did not answer in time"),
    DependencyUnavailable("the contacts service closed the connection"),
    BadUpstreamResponse("the contacts service sent an invalid response"),
])
def test_a_request_sent_that_got_no_answer_is_never_run_again_with_its_key(container, failure):
    retry, performed = send_twice(container, failure)
    assert performed == 1
    assert isinstance(retry, IdempotencyOutcomeUnknown) and retry.status == 409
    assert retry.extra["first_status"] == failure.status


@pytest.mark.parametrize("failure", [UpstreamNotReached("the contacts service is unreachable"),
                                     UpstreamFailed("the contacts service failed (500)"),
                                     TypeError("a bug of the gateway before the request went out")])
def test_a_request_never_sent_or_that_the_service_said_failed_runs_again(container, failure):
    retry, performed = send_twice(container, failure)
    assert performed == 2 and retry is failure
