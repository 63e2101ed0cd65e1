"""A request that meets the database down answers 503 with Retry-After, whatever statement met it: not only
those inside a unit of work (which translate the error themselves) but also, say, the gateway's key lookup."""
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError

from crm_platform.web import create_service_app


def app_raising(error: Exception):
    app = create_service_app("outage-test", required_checks={}, log_level="WARNING")

    @app.get("/v1/things")
    def things():
        raise error

    return app


def test_a_statement_that_finds_no_server_is_a_503_problem_with_retry_after():
    for error in (ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused"),
                  AutoReconnect("127.0.0.1:27017: connection closed")):
        answer = app_raising(error).test_client().get("/v1/things")
        assert answer.status_code == 503, error
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.get_json()["type"].endswith("/dependency-unavailable")
        assert "27017" not in answer.get_data(as_text=True)  # nothing of the driver's message


def test_data_or_a_query_the_database_refused_outside_a_unit_of_work_stays_an_internal_error():
    for error in (DuplicateKeyError("E11000 duplicate key", code=11000), OperationFailure("bad query", code=2),
                  OperationFailure("not implemented", code=238)):
        answer = app_raising(error).test_client().get("/v1/things")
        assert answer.status_code == 500 and "Retry-After" not in answer.headers, error
