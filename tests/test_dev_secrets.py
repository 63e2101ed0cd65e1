"""`make run`'s secrets: made once and kept; one added later (METRICS_TOKEN) is added without a manual step."""
import base64
import runpy
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def secrets_in(var: Path, monkeypatch) -> dict:
    monkeypatch.setenv("CRM_VAR_DIR", str(var))
    return runpy.run_path(str(REPO / "scripts" / "dev_env.py"))["secrets"]()


def test_a_secrets_file_of_an_earlier_version_gains_the_metrics_token_and_keeps_the_rest(tmp_path, monkeypatch):
    (tmp_path / "secrets.env").write_text("INTERNAL_TOKEN=kept-internal\nMASTER_KEY=kept-master\n")
    values = secrets_in(tmp_path, monkeypatch)
    assert values["INTERNAL_TOKEN"] == "kept-internal" and values["MASTER_KEY"] == "kept-master"
    assert len(values["METRICS_TOKEN"]) >= 16
    assert secrets_in(tmp_path, monkeypatch) == values  # made once
    assert oct((tmp_path / "secrets.env").stat().st_mode & 0o777) == "0o600"


def test_the_privacy_signing_key_is_made_as_the_privacy_service_reads_it(tmp_path, monkeypatch):
    """A 32-byte Ed25519 seed, base64 (privacy.config: PRIVACY_SIGNING_KEY), added to an earlier secrets file."""
    (tmp_path / "secrets.env").write_text("INTERNAL_TOKEN=kept-internal\nMASTER_KEY=kept-master\n")
    values = secrets_in(tmp_path, monkeypatch)
    assert len(base64.b64decode(values["PRIVACY_SIGNING_KEY"], validate=True)) == 32
    assert secrets_in(tmp_path, monkeypatch)["PRIVACY_SIGNING_KEY"] == values["PRIVACY_SIGNING_KEY"]
