"""A request that meets an erased person answers 404, never a 500: whatever route it came through."""
import json

from crm_platform.personal_data import SubjectErased
from crm_platform.web import create_service_app


def test_a_write_that_meets_an_erased_subject_is_not_found_and_logged_without_the_subject(capsys):
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
    [logged] = [json.loads(line) for line in capsys.readouterr().err.splitlines()
                if "sealed data whose key is gone" in line]  # the service's JSON log on stderr
    assert logged["route"] == "/v1/things/<thing_id>/files" and "t-1" not in json.dumps(logged)
