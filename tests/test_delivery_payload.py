"""SendGrid payload options: unsubscribe group, tracking, mailto unsubscribe, scheduling."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from newsletter.delivery.base import Recipient
from newsletter.delivery.sendgrid import PayloadBuilder, retry_wait
from newsletter.settings import SendGridOptions
from tests.delivery_kit import make_kit, people
from tests.sendgrid_server import check_body


def test_optional_fields_are_valid_for_sendgrid(project: Path) -> None:
    kit = make_kit(project, people(3))
    options = SendGridOptions(asm_group_id=4242, click_tracking=True, open_tracking=True, categories=["monthly"])
    soon = int(time.time()) + 3600
    message = dataclasses.replace(kit.message, send_at=soon, unsubscribe_mailto="leave@example.org",
                                  categories=("2024-06-june-team-update", "monthly"))
    batch = [Recipient(i, e, n, values, t) for i, (e, n, _, t, values) in enumerate(kit.source(), 1)]
    body = PayloadBuilder(message, options).as_dict(batch)
    assert check_body(body) == []
    assert body["asm"] == {"group_id": 4242}
    assert body["categories"] == ["2024-06-june-team-update", "monthly"]
    assert body["tracking_settings"]["click_tracking"]["enable"] is True
    assert body["send_at"] == soon
    assert body["personalizations"][0]["headers"]["List-Unsubscribe"].endswith(
        ", <mailto:leave@example.org?subject=unsubscribe>")


def test_retry_wait_reads_seconds_dates_and_reset() -> None:
    assert retry_wait({"Retry-After": "7"}, now=100.0) == 7.0
    assert retry_wait({"Retry-After": "Thu, 01 Jan 1970 00:02:00 GMT"}, now=100.0) == 20.0
    assert retry_wait({"X-RateLimit-Reset": "130"}, now=100.0) == 30.0
    assert retry_wait({}, now=100.0) is None


def test_schema_copy_matches_the_shared_one() -> None:
    import pytest

    from tests.sendgrid_server import SCHEMA_FILE

    shared = SCHEMA_FILE.parents[3] / "shared" / "sendgrid" / "tsg_mail_v3.json"
    if not shared.exists():
        pytest.skip(f"{shared} is not here (CI puts shared/ beside the clone)")
    assert SCHEMA_FILE.read_bytes() == shared.read_bytes()


def test_fast_token_and_link_makers_agree_with_the_plain_functions() -> None:
    from newsletter.delivery.plan import link_maker, unsubscribe_url
    from newsletter.delivery.state import token_maker, unsubscribe_token
    from newsletter.settings import Settings

    secret = bytes(range(32))
    token = token_maker(secret)
    for email in ("a@example.org", " Mixed.Case@Example.ORG ", "zoë@bücher.example", ""):
        assert token(email) == unsubscribe_token(secret, email)
    for template in ("https://example.org/u?t={token}", "https://example.org/{token}/x?again={token}",
                     "https://example.org/{token}"):
        settings = Settings.model_validate({
            "name": "N", "from": {"name": "N", "email": "n@example.org"},
            "postal_address": "1 Road, Town", "unsubscribe_url": template,
            "contact_email": "n@example.org", "web_archive_url": "https://example.org/archive/",
        })
        link = link_maker(settings)
        assert link("abc") == unsubscribe_url(settings, "abc")
