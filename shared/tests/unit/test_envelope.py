import json

import pytest

from crm_platform import request_context
from crm_platform.envelope import MalformedEvent, envelope_from_json_bytes, new_envelope


def make(**overrides):
    fields = dict(
        event_type="ContactCreated", aggregate_type="Contact", aggregate_id="c1",
        aggregate_version=1, account_id="a1", payload={"x": 1},
    )
    fields.update(overrides)
    return new_envelope(**fields)


def test_round_trip_through_json_keeps_every_field():
    with request_context.tracing(request_context.TraceContext("req-1", "corr-1", actor="api-key:k1")):
        envelope = make()
    back = envelope_from_json_bytes(envelope.to_json_bytes())
    assert back == envelope
    assert back.correlation_id == "corr-1"
    assert back.causation_id == "req-1"
    assert back.actor == "api-key:k1"
    assert back.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b'{"event_type": "ContactCreated"}', json.dumps({"x": "\u00e9"}).encode()],
)
def test_malformed_bytes_are_rejected_with_a_typed_error(raw):
    with pytest.raises(MalformedEvent):
        envelope_from_json_bytes(raw)


def test_event_type_must_be_a_past_tense_style_name():
    data = make().to_dict()
    data["event_type"] = "contact created"
    with pytest.raises(MalformedEvent):
        envelope_from_json_bytes(json.dumps(data).encode())


def test_bytes_nested_ten_thousand_deep_are_malformed_not_a_recursion_error():
    """A RecursionError would escape the consumer's poll: it would reconnect and read the same record forever."""
    with pytest.raises(MalformedEvent):
        envelope_from_json_bytes(b'{"payload": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")


@pytest.mark.parametrize("field", ["aggregate_id", "account_id"])
@pytest.mark.parametrize("bad", ["c-1\x00", "c\n1", "\x7f"])
def test_an_envelope_naming_an_aggregate_or_account_with_a_control_character_is_malformed(field, bad):
    """FerretDB refuses a NUL in a value MongoDB stores: such an envelope would be applied on one server and
    refused on the other, so it is dead-lettered on both."""
    data = make().to_dict()
    data[field] = bad
    with pytest.raises(MalformedEvent, match=field):
        envelope_from_json_bytes(json.dumps(data).encode())
