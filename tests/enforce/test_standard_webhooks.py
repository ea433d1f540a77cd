"""Standard Webhooks: Haven's deliveries verified with the `standardwebhooks` library (not our
code), generated `whsec_` secrets, rotation with two active secrets, and the deprecated header."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from haven.core import clock
from haven.core.db import Database
from haven.core.errors import Invalid
from haven.enforce import webhooks
from tests.conftest import LiveServer, make_key
from tests.enforce.doubles import receiver
from tests.enforce.test_webhook_flow import drain

BODY = b'{"id":"01J","type":"content.remove","data":{}}'


def _headers(secrets: list[str], msg_id: str = "msg_1", ts: int | None = None) -> dict[str, str]:
    return webhooks.standard_headers(secrets, msg_id, ts or int(time.time()), BODY)


def test_library_verifies_our_signature_and_refuses_tampering() -> None:
    secret = webhooks.generate_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    h = _headers([secret])
    assert Webhook(secret).verify(BODY, h) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", h)  # tampered body
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.generate_secret()).verify(BODY, h)  # another secret
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**h, "webhook-id": "msg_2"})  # the id is signed
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, _headers([secret], ts=int(time.time()) - 600))  # stale: replay refused


def test_two_active_secrets_and_legacy_secrets() -> None:
    new, old = webhooks.generate_secret(), webhooks.generate_secret()
    h = _headers([new, old])
    assert len(h["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, h)
    Webhook(old).verify(BODY, h)
    legacy = "cli-secret-0123456789"  # set before whsec_: its UTF-8 bytes are the key
    Webhook(legacy.encode()).verify(BODY, _headers([legacy]))


@pytest.mark.parametrize("bad", ["whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode(), "tooshort"])
def test_unusable_secrets_are_refused(bad: str) -> None:
    with pytest.raises(Invalid):
        webhooks.check_secret(bad)


def test_generated_secret_rotation_and_delivery(server: LiveServer, db: Database) -> None:
    admin = make_key(db, ["admin"])
    with receiver() as rec, server.client(admin) as c:
        r = c.put("/v1/webhook", json={"url": rec.url})
        assert r.status_code == 200, r.text
        first = r.json()["secret"]
        assert first.startswith("whsec_") and "secret" not in c.get("/v1/webhook").json()
        rec.secret = first
        with db.session() as s:
            webhooks.deliver(s, "tos.updated", {"version": "1"}, subject_type="terms", subject_id="1", actor="t")
        drain(db)
        assert len(rec.actions("tos.updated")) == 1 and rec.bad_signatures == 0

        rot = c.post("/v1/webhook/rotate-secret", json={"grace_hours": 1})
        assert rot.status_code == 200, rot.text
        second = rot.json()["secret"]
        assert second != first and rot.json()["previous_secret_until"]
        with db.session() as s:
            target = webhooks.endpoint_secrets(s)
            assert target is not None and target[1] == [second, first]
        # A receiver still on the old secret and one on the new both verify during the grace.
        for secret in (first, second):
            rec.secret = secret
            with db.session() as s:
                data = {"version": secret[-4:]}
                webhooks.deliver(s, "tos.updated", data, subject_type="terms", subject_id="1", actor="t")
            drain(db)
        assert len(rec.actions("tos.updated")) == 3 and rec.bad_signatures == 0
        # After the grace only the new secret signs.
        with clock.frozen(clock.now() + timedelta(hours=2)), db.session() as s:
            target = webhooks.endpoint_secrets(s)
            assert target is not None and target[1] == [second]
        assert c.post("/v1/webhook/rotate-secret", json={"secret": "short"}).status_code == 422
