"""A typed error's extra members never replace the problem's own (type, title, status, detail...)."""
from crm_platform.errors import Conflict
from crm_platform.web import create_service_app


def test_an_error_whose_extras_are_named_like_problem_members_is_still_its_own_problem():
    app = create_service_app("problem-test", required_checks={}, log_level="WARNING")

    @app.post("/v1/things/<thing_id>/edit")
    def edit(thing_id: str):
        raise Conflict(f"thing {thing_id} is issued", thing_id=thing_id, status="issued", title="x", type="y")

    answer = app.test_client().post("/v1/things/t-1/edit")
    assert answer.status_code == 409
    problem = answer.get_json()
    assert (problem["status"], problem["title"], problem["type"]) == (409, "Conflict", "/problems/conflict")
    assert problem["thing_id"] == "t-1"
