from datetime import datetime, timezone

import pytest

from crm_platform.errors import InvalidInput
from crm_platform.pagination import decode_cursor, encode_cursor


def test_a_cursor_gives_back_its_sort_value_and_id():
    at = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
    assert decode_cursor(encode_cursor("-created_at", at, "c-1"), "-created_at", dated=True) == (at, "c-1")
    assert decode_cursor(encode_cursor("last_name", "dupont", "c-2"), "last_name", dated=False) == ("dupont", "c-2")


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor("first_name", "a", "c-1"),
                                    encode_cursor("last_name", 3, "c-1")])
def test_a_cursor_this_api_did_not_make_for_the_sort_is_a_field_error(cursor):
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(cursor, "last_name", dated=False)
    assert raised.value.errors == {"cursor": ["invalid cursor"]}


def test_a_cursor_time_with_an_offset_at_the_calendars_ends_is_refused_and_others_read_in_utc():
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        with pytest.raises(InvalidInput):
            decode_cursor(encode_cursor("-at", moment, "x"), "-at", dated=True)
    value, _ = decode_cursor(encode_cursor("-at", "2026-01-01T01:00:00+01:00", "x"), "-at", dated=True)
    assert value == datetime(2026, 1, 1, tzinfo=timezone.utc) and value.tzinfo is not None
    naive, _ = decode_cursor(encode_cursor("-at", "2026-01-01T00:00:00", "x"), "-at", dated=True)
    assert naive == datetime(2026, 1, 1, tzinfo=timezone.utc)  # stored times are UTC: not the machine's zone
