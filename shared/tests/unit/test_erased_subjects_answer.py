"""A request that meets an erased person answers 404, never a 500: whatever route it came through."""
from crm_platform.personal_data import SubjectErased
from crm_platform.web import create_service_app


def test_a_write_that_meets_an_erased_subject_is_not_found():
    app = create_service_app("erased-test", required_checks={}, log_level="WARNING")

    @app.post("/v1/things/<thing_id>/files")
    def add_file(thing_id: str):
        raise SubjectErased(f"thing:{thing_id}")  # sealing for a person erased meanwhile

    answer = app.test_client().post("/v1/things/t-1/files")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.get_json()
    assert problem["type"].endswith("/not-found") and "erased" in problem["detail"]
    assert "thing:t-1" not in answer.get_data(as_text=True)  # the subject id is not echoed
