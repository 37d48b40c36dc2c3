"""The request process builds SendGrid bodies from journal rows while the request before is out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest

from newsletter.delivery.api import parse_api_host
from newsletter.delivery.base import Batch, RetryLater
from newsletter.delivery.poster import Poster
from newsletter.delivery.sendgrid import PayloadBuilder
from tests.delivery_kit import make_kit, people
from tests.sendgrid_server import KEY, SendGridServer


def rows(n: int, start: int = 1) -> list[tuple[int, str, str, str, str | None]]:
    return [(seq, f"reader{seq:05d}@example.org", f'Zoë "{seq}"', "O'Brien, Jr.", None) for seq in range(start, start + n)]


def test_the_body_built_by_the_request_process_is_the_senders_byte_for_byte(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    kit = make_kit(project, people(1))
    builder = PayloadBuilder(kit.message, kit.settings.delivery.sendgrid)
    maker = kit.maker()
    spec = builder.rows_body(maker).spec
    poster = Poster(KEY, parse_api_host(sendgrid_server.url), 5.0)
    try:
        for start in (1, 4):  # the spec goes over once; the second batch is built from it too
            batch = Batch(rows(3, start), maker)
            poster.submit(poster.build(batch.rows_json(), spec), start, None)
            poster.result()
            assert sendgrid_server.log.requests[-1] == orjson.loads(builder.build(batch))
    finally:
        poster.close()
    assert sendgrid_server.log.invalid == []
    assert sorted(sendgrid_server.counts) == [f"reader{seq:05d}@example.org" for seq in range(1, 7)]


def test_a_new_message_gets_its_own_spec(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(1))
    poster = Poster(KEY, parse_api_host(sendgrid_server.url), 5.0)
    try:
        for send_id in ("first-send", "second-send"):
            message = dataclasses.replace(kit.message, send_id=send_id)
            builder = PayloadBuilder(message, kit.settings.delivery.sendgrid)
            maker = kit.maker()
            batch = Batch(rows(2), maker)
            poster.submit(poster.build(batch.rows_json(), builder.rows_body(maker).spec), 1, None)
            poster.result()
            body = sendgrid_server.log.requests[-1]
            assert {p["custom_args"]["send_id"] for p in body["personalizations"]} == {send_id}
    finally:
        poster.close()


def test_a_body_the_request_process_no_longer_has_is_not_sent(project: Path, sendgrid_server: SendGridServer) -> None:
    """It keeps only the body built last: asked for an older one, it sends nothing and
    says to try again (the sender then builds and posts the body itself)."""
    kit = make_kit(project, people(1))
    spec = PayloadBuilder(kit.message, kit.settings.delivery.sendgrid).rows_body(kit.maker()).spec
    poster = Poster(KEY, parse_api_host(sendgrid_server.url), 5.0)
    try:
        older = poster.build(Batch(rows(2), kit.maker()).rows_json(), spec)
        poster.build(Batch(rows(2, 3), kit.maker()).rows_json(), spec)
        poster.submit(older, 1, None)
        with pytest.raises(RetryLater, match="no longer had the request's body"):
            poster.result()
        assert poster.alive
    finally:
        poster.close()
    assert sendgrid_server.log.times == []  # no request reached the server
