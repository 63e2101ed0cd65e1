"""The revision a write is based on (crm_platform.revisions): the body's, else If-Match; shared by every service."""
import pytest
from flask import Flask

from crm_platform.errors import InvalidInput
from crm_platform.revisions import based_on, etag


@pytest.fixture
def app():
    return Flask(__name__)


def test_the_bodys_revision_wins_over_if_match_and_is_popped(app):
    data = {"revision": 3, "title": "x"}
    with app.test_request_context(headers={"If-Match": '"7"'}):
        assert based_on(data, required=True) == 3 and data == {"title": "x"}


@pytest.mark.parametrize("header, revision", [('"7"', 7), ('W/"7"', 7), ("7", 7)])
def test_if_match_is_read_when_the_body_has_none(app, header, revision):
    with app.test_request_context(headers={"If-Match": header}):
        assert based_on({}, required=True) == revision


@pytest.mark.parametrize("header", ["*", '"abc"', '"' + "9" * 30 + '"', '"1", "2"'])
def test_an_if_match_that_is_no_revision_is_a_422_naming_revision(app, header):
    with app.test_request_context(headers={"If-Match": header}), pytest.raises(InvalidInput) as refused:
        based_on({}, required=False)
    assert "revision" in refused.value.errors


def test_a_missing_revision_is_refused_only_when_required(app):
    with app.test_request_context():
        assert based_on({}, required=False) is None
        with pytest.raises(InvalidInput) as refused:
            based_on({}, required=True)
    assert "revision" in refused.value.errors


def test_the_etag_quotes_the_revision():
    assert etag(4) == {"ETag": '"4"'}
