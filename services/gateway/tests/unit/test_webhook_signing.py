"""Deliveries are signed per Standard Webhooks: the `standardwebhooks` library verifies them, with each secret
while a rotation keeps two."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.adapters.webhook_sender import signed_headers
from gateway.domain.webhook_endpoints import SigningSecret, new_secret, rotated, signing_secrets



@pytest.fixture
def now():
    """Now when the test runs (the library refuses a timestamp over 5 minutes old; a whole run lasts longer)."""
    return datetime.now(timezone.utc)


BODY = json.dumps({"id": "evt", "type": "contact.created", "data": {"contact_id": "c1"}})


def test_a_signed_delivery_verifies_with_the_endpoint_secret(now):
    secret = new_secret()
    headers = signed_headers("msg_1", now, BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")


def test_another_secret_or_a_changed_body_does_not_verify(now):
    secret = new_secret()
    headers = signed_headers("msg_1", now, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("c1", "c2"), headers)


def test_secrets_look_like_standard_webhooks_secrets():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(Webhook(secret)._whsecret) == 32
    assert new_secret() != secret


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(now):
    old = new_secret()
    fresh, kept = rotated([SigningSecret(old)], now)
    during = signing_secrets(kept, now)
    assert during == [fresh, old]
    headers = signed_headers("msg_2", now, BODY, during)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(fresh).verify(BODY, headers)
    assert signing_secrets(kept, now + timedelta(hours=24, seconds=1)) == [fresh]


def test_a_second_rotation_drops_the_oldest_secret(now):
    first = new_secret()
    second, kept = rotated([SigningSecret(first)], now)
    third, kept = rotated(kept, now)
    assert [kept_secret.secret for kept_secret in kept] == [third, second]
