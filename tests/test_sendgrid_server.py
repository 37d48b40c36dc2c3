"""The benchmark's SendGrid stand-in counts honestly when it only decodes what it counts."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from tests.sendgrid_server import KEY, SendGridServer


def post(server: SendGridServer, body: bytes) -> tuple[int, dict[str, Any]]:
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname or "", where.port)
    try:
        conn.request(
            "POST", "/v3/mail/send", body=body, headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        )
        answer = conn.getresponse()
        data = answer.read()
        return answer.status, orjson.loads(data) if data else {}
    finally:
        conn.close()


def mail(*emails: str, sandbox: bool = False) -> dict[str, Any]:
    return {
        "personalizations": [{"to": [{"email": e, "name": "A, B"}], "custom_args": {"send_id": "s"}} for e in emails],
        "from": {"email": "news@example.org"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}],
        "mail_settings": {"sandbox_mode": {"enable": sandbox}},
    }


@pytest.fixture
def lean() -> Any:
    with SendGridServer(validate="first", keep_bodies=False) as server:
        yield server


def test_after_the_first_request_it_still_counts_every_address_and_refuses_what_is_not_a_mail(lean: SendGridServer) -> None:
    assert post(lean, orjson.dumps(mail("a@example.org")))[0] == 202  # the one validated against the schema
    assert lean.lean()
    assert post(lean, orjson.dumps(mail("b@example.org", "c@example.org")))[0] == 202
    assert post(lean, orjson.dumps(mail("d@example.org", sandbox=True)))[0] == 200  # checked, not delivered
    status, answer = post(lean, b'{"personalizations": [{"to": [{"email": "e@example.org"}]}')
    assert status == 400 and "truncated" in answer["errors"][0]["message"]
    status, _ = post(lean, orjson.dumps({"personalizations": [{"cc": [{"email": "f@example.org"}]}]}))
    assert status == 400
    status, _ = post(lean, orjson.dumps({"personalizations": [{"to": [{"email": 7}]}]}))
    assert status == 400
    assert lean.log.accepted == ["a@example.org", "b@example.org", "c@example.org"]
    assert lean.log.sandboxed == 1


def test_the_first_request_is_validated_against_sendgrids_schema(lean: SendGridServer) -> None:
    body = mail("a@example.org")
    del body["from"]
    status, answer = post(lean, orjson.dumps(body))
    assert status == 400 and "from" in answer["errors"][0]["message"]
    assert lean.log.accepted == []
