"""The merged OpenAPI document declares the gateway's rate limits: 429 on every operation, headers on every answer."""
from gateway.entrypoints.openapi_merge import PROBLEM, declare_rate_limits


def service_document():
    return {
        "paths": {
            "/v1/contacts": {"get": {"responses": {"200": {"description": "OK"}}},
                             "post": {"responses": {"201": {"description": "Created", "headers": {"Location": {}}},
                                                    "422": {"description": "Invalid fields", "content": PROBLEM}}}},
            "/v1/contacts/{contact_id}": {"delete": {"responses": {"204": {"description": "No content"}}}},
        },
        "components": {"schemas": {}},
    }


def test_every_operation_may_answer_429_and_every_answer_declares_the_rate_limit_headers():
    spec = service_document()
    declare_rate_limits(spec)
    headers = spec["components"]["headers"]
    assert set(headers) >= {"RateLimitPolicy", "RateLimit", "RetryAfter"}
    for path in spec["paths"].values():
        for op in path.values():
            refused = op["responses"]["429"]
            assert refused["content"] == PROBLEM
            assert refused["headers"]["Retry-After"] == headers["RetryAfter"]
            assert len(op["responses"]) >= 2
            for response in op["responses"].values():
                assert response["headers"]["RateLimit-Policy"] == headers["RateLimitPolicy"]
                assert response["headers"]["RateLimit"] == headers["RateLimit"]
