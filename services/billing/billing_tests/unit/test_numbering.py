import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.numbering import (DEFAULT_PATTERNS, MAX_NUMBER_LENGTH, MAX_PATTERN_LENGTH, MAX_SEQ,
                                      NumberPattern)
from crm_platform.errors import InvalidInput


def test_default_patterns_render_french_numbers():
    assert DEFAULT_PATTERNS["invoice"].render(2026, 1) == "F-2026-0001"
    assert DEFAULT_PATTERNS["credit_note"].render(2026, 42) == "AV-2026-0042"
    assert DEFAULT_PATTERNS["quote"].render(2027, 12345) == "D-2027-12345"  # the width is a minimum


@pytest.mark.parametrize("text, year, seq, number", [
    ("INV/{YY}/{SEQ:6}", 2026, 7, "INV/26/000007"),
    ("{YYYY}{SEQ:5}", 2026, 3, "202600003"),
    ("F{YY}-{SEQ}", 2031, 120, "F31-120"),
    ("#{SEQ:3}.{YYYY}", 2026, 5, "#005.2026"),
])
def test_patterns_render_and_match_back(text, year, seq, number):
    pattern = NumberPattern.parse(text)
    assert pattern.render(year, seq) == number
    assert pattern.match(number) == (year if "{YYYY}" in text else None, seq)


@pytest.mark.parametrize("text", [
    "{0.__class__}", "{SEQ.__class__.__mro__}", "F-{YYYY}-{SEQ:>999999}", "F-{YYYY}-{SEQ!r}", "{YYYY}-{SEQ:4}{}",
    "F-%(seq)s-{YYYY}", "F-{{YYYY}}-{SEQ}", "${YYYY}-{SEQ}", "F {YYYY}-{SEQ}", "F-{yyyy}-{SEQ}", "F-{YYYY}",
    "F-{SEQ:4}", "{YYYY}-{YY}-{SEQ}", "{YYYY}{SEQ}{SEQ}", "{YYYY}-{SEQ:0}", "{YYYY}-{SEQ:11}", "{YYYY}-{SEQ:٣}",
    "F-{YYYY}-{SEQ:4}-" + "X" * MAX_PATTERN_LENGTH, "", None, 12,
])
def test_unsafe_or_ambiguous_patterns_are_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as raised:
        NumberPattern.parse(text, field="numbering.invoice")
    assert list(raised.value.errors) == ["numbering.invoice"]


@pytest.mark.parametrize("year, seq", [(0, 1), (10000, 1), (2026, 0), (2026, MAX_SEQ + 1), (2026, True), ("2026", 1)])
def test_render_refuses_years_and_sequence_numbers_out_of_range(year, seq):
    with pytest.raises(InvalidInput):
        DEFAULT_PATTERNS["invoice"].render(year, seq)


@pytest.mark.parametrize("number", ["F-2026-00001", "F-2026-0000", "F-2026-001", "F-26-0001", "f-2026-0001",
                                    "F-2026-0001 ", "F-٢٠٢٦-0001", None])
def test_match_refuses_what_the_pattern_does_not_render(number):
    assert DEFAULT_PATTERNS["invoice"].match(number) is None


literal = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789-_/.#", min_size=1, max_size=4)
seq_token = st.sampled_from(["{SEQ}", "{SEQ:1}", "{SEQ:3}", "{SEQ:4}", "{SEQ:6}", "{SEQ:10}"])
year_token = st.sampled_from(["{YYYY}", "{YY}"])


@st.composite
def pattern_texts(draw):
    tokens = draw(st.permutations([draw(seq_token), draw(year_token)]))
    pieces = [draw(st.one_of(st.just(""), literal)) for _ in range(3)]
    return pieces[0] + tokens[0] + pieces[1] + tokens[1] + pieces[2]


@given(pattern_texts(), st.integers(1, 9999), st.integers(1, MAX_SEQ))
def test_render_and_match_round_trip_within_the_length_bound(text, year, seq):
    pattern = NumberPattern.parse(text)
    number = pattern.render(year, seq)

    assert len(number) <= MAX_NUMBER_LENGTH
    assert pattern.match(number) == (year if "{YYYY}" in text else None, seq)
    assert NumberPattern.parse(pattern.text) == pattern


@given(pattern_texts(), st.integers(1, 9999), st.integers(1, 10**6), st.integers(1, 10**6))
def test_different_sequence_numbers_never_render_the_same_number(text, year, seq, other):
    pattern = NumberPattern.parse(text)
    assert (pattern.render(year, seq) == pattern.render(year, other)) == (seq == other)


@given(st.text(max_size=40))
def test_any_text_is_a_pattern_or_an_invalid_input_never_another_error(text):
    try:
        pattern = NumberPattern.parse(text)
    except InvalidInput:
        return
    assert len(pattern.render(9999, MAX_SEQ)) <= MAX_NUMBER_LENGTH
