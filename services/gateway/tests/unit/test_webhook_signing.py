"""Deliveries are signed per Standard Webhooks: the `standardwebhooks` library verifies them, with each secret
while a rotation keeps two."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.adapters.webhook_sender import signed_headers
from gateway.domain.webhook_endpoints import SigningSecret, new_secret, rotated, signing_secrets

NOW = datetime.now(timezone.utc)
BODY = json.dumps({"id": "evt", "type": "contact.created", "data": {"contact_id": "c1"}})


def test_a_signed_delivery_verifies_with_the_endpoint_secret():
    secret = new_secret()
    headers = signed_headers("msg_1", NOW, BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")


def test_another_secret_or_a_changed_body_does_not_verify():
    secret = new_secret()
    headers = signed_headers("msg_1", NOW, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("c1", "c2"), headers)


def test_secrets_look_like_standard_webhooks_secrets():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(Webhook(secret)._whsecret) == 32
    assert new_secret() != secret


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one():
    old = new_secret()
    fresh, kept = rotated([SigningSecret(old)], NOW)
    during = signing_secrets(kept, NOW)
    assert during == [fresh, old]
    headers = signed_headers("msg_2", NOW, BODY, during)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(fresh).verify(BODY, headers)
    assert signing_secrets(kept, NOW + timedelta(hours=24, seconds=1)) == [fresh]


def test_a_second_rotation_drops_the_oldest_secret():
    first = new_secret()
    second, kept = rotated([SigningSecret(first)], NOW)
    third, kept = rotated(kept, NOW)
    assert [kept_secret.secret for kept_secret in kept] == [third, second]
