"""The gateway's listener is public: it serves /metrics only when GATEWAY_SERVES_METRICS says so."""
import pytest

from crm_platform import registry

from gateway import config
from gateway.entrypoints.api import create_app

TOKEN = "metrics-token-0123456789"
SETTINGS = {"MONGO_URI": "mongodb://127.0.0.1:1", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "INTERNAL_TOKEN": "t" * 32,
            "METRICS_TOKEN": TOKEN, **{s.url_variable: f"http://{s.name}-api:{s.port}" for s in registry.load().upstreams}}


@pytest.mark.parametrize("serves, status", [(None, 404), ("false", 404), ("true", 200)])
def test_the_gateway_serves_metrics_only_when_its_setting_says_so(monkeypatch, serves, status):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)  # as in a pod: the secret is there whatever the setting
    settings = config.load({**SETTINGS, **({"GATEWAY_SERVES_METRICS": serves} if serves else {})})
    client = create_app(settings).test_client()
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == status
