"""When a page sorted by creation goes on bucket by bucket and when it reads the rest at once (contact_pages.py)."""
from contacts.contact_pages import BUCKETS_WALKED, _worth_walking


def test_the_first_buckets_are_always_walked():
    assert all(_worth_walking(walked, 0, 51, 400) for walked in range(BUCKETS_WALKED))


def test_nothing_found_in_them_reads_the_rest_at_once():
    assert not _worth_walking(BUCKETS_WALKED, 0, 51, 400)


def test_a_page_that_fills_well_before_the_end_goes_on_walking():
    # `louise marti` on 400 buckets: about 10 found in 8, 41 more needed: some 33 buckets more
    assert _worth_walking(8, 10, 41, 392)
    assert not _worth_walking(8, 10, 41, 60)  # but not if that is most of what is left
    assert not _worth_walking(8, 1, 50, 392)
