"""SendGrid payload options: unsubscribe group, tracking, mailto unsubscribe, scheduling."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.delivery.base import Batch
from newsletter.delivery.bodies import SEND_AT_KEY, RowsBody
from newsletter.delivery.plan import make_message, new_rows, recipient_for, recipient_maker
from newsletter.delivery.posting import retry_wait
from newsletter.delivery.sendgrid import PayloadBuilder
from newsletter.delivery.state import load_secret
from newsletter.project import open_issue
from newsletter.settings import SendGridOptions
from tests.delivery_kit import ISSUE, make_kit, people, person
from tests.sendgrid_server import check_body


def test_optional_fields_are_valid_for_sendgrid(project: Path) -> None:
    kit = make_kit(project, people(3))
    options = SendGridOptions(asm_group_id=4242, click_tracking=True, open_tracking=True, categories=["monthly"])
    soon = int(time.time()) + 3600
    message = dataclasses.replace(
        kit.message, send_at=soon, unsubscribe_mailto="leave@example.org", categories=("2024-06-june-team-update", "monthly")
    )
    batch = kit.recipients()
    body = PayloadBuilder(message, options).as_dict(batch)
    assert check_body(body) == []
    assert body["asm"] == {"group_id": 4242}
    assert body["categories"] == ["2024-06-june-team-update", "monthly"]
    assert body["tracking_settings"]["click_tracking"]["enable"] is True
    assert body["send_at"] == soon
    assert body["personalizations"][0]["headers"]["List-Unsubscribe"].endswith(", <mailto:leave@example.org?subject=unsubscribe>")


def test_retry_wait_reads_seconds_dates_and_reset() -> None:
    assert retry_wait({"Retry-After": "7"}, now=100.0) == 7.0
    assert retry_wait({"Retry-After": "Thu, 01 Jan 1970 00:02:00 GMT"}, now=100.0) == 20.0
    assert retry_wait({"X-RateLimit-Reset": "130"}, now=100.0) == 30.0
    assert retry_wait({}, now=100.0) is None


def test_schema_copy_matches_the_shared_one() -> None:
    from tests.sendgrid_server import SCHEMA_FILE

    shared = SCHEMA_FILE.parents[3] / "shared" / "sendgrid" / "tsg_mail_v3.json"
    if not shared.exists():
        pytest.skip(f"{shared} is not here (CI puts shared/ beside the clone)")
    assert SCHEMA_FILE.read_bytes() == shared.read_bytes()


def test_fast_token_and_link_makers_agree_with_the_plain_functions() -> None:
    from newsletter.delivery.bodies import link_maker
    from newsletter.delivery.plan import unsubscribe_url
    from newsletter.delivery.state import token_maker, unsubscribe_token
    from newsletter.settings import Settings

    secret = bytes(range(32))
    token = token_maker(secret)
    for email in ("a@example.org", " Mixed.Case@Example.ORG ", "zoë@bücher.example", ""):
        assert token(email) == unsubscribe_token(secret, email)
    for template in (
        "https://example.org/u?t={token}",
        "https://example.org/{token}/x?again={token}",
        "https://example.org/{token}",
    ):
        settings = Settings.model_validate(
            {
                "name": "N",
                "from": {"name": "N", "email": "n@example.org"},
                "postal_address": "1 Road, Town",
                "unsubscribe_url": template,
                "contact_email": "n@example.org",
                "web_archive_url": "https://example.org/archive/",
            }
        )
        link = link_maker(settings.unsubscribe_url)
        assert link("abc") == unsubscribe_url(settings, "abc")


NAME = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"), max_size=12)


@pytest.mark.parametrize("extra_field", [False, True])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=NAME, last=NAME, city=NAME)
def test_journal_rows_make_the_recipient_a_subscriber_makes(
    project: Path, extra_field: bool, first: str, last: str, city: str
) -> None:
    """A send keeps only what a recipient is made from (no token, no display name, no
    values when only the names are used); what it makes again from that row is the
    recipient made straight from the subscriber."""
    project_settings = open_issue(project / ISSUE)[0].settings
    secret = load_secret(project)
    fields = frozenset({"first_name", "city"} if extra_field else {"first_name"})
    entry = person("Zoë.Example@Example.ORG", first.strip(), last.strip(), {"city": city})
    (row,) = new_rows([entry], project_settings, fields, project / "list.csv")
    assert (row[3] is None) is (not extra_field)
    made = recipient_maker(project_settings, secret)((7, *row[:4]))
    expected = recipient_for(entry, project_settings, secret, seq=7)
    assert made.seq == 7 and made.email == expected.email and made.name == expected.name
    assert made.token == expected.token
    assert {k: made.values[k] for k in (*fields, "email", "unsubscribe_url")} == {
        k: expected.values[k] for k in (*fields, "email", "unsubscribe_url")
    }


ALL_TOKENS = tuple(
    f"__nl_{field}_{context}__"
    for field in ("first_name", "last_name", "email", "unsubscribe_url", "city", "greeting")
    for context in ("html", "url", "text")
)
ROW_NAME = st.text(st.sampled_from(list("aZé &<>\"'%/?=ü")), max_size=6).map(str.strip)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people_=st.lists(
        st.tuples(
            ROW_NAME,
            ROW_NAME,
            st.none()
            | st.dictionaries(
                st.sampled_from(["first_name", "last_name", "city", "language"]),
                ROW_NAME | st.sampled_from(["cy", "en", "cy-GB", "CY"]),
            ),
            st.none() | st.integers(0, 3600),
        ),
        min_size=1,
        max_size=8,
    ),
    tokens=st.sets(st.sampled_from(ALL_TOKENS)),
    mailto=st.none() | st.just("leave@example.org"),
    tracking=st.sampled_from(["everyone", "consented"]),
    tracked=st.booleans(),
)
def test_a_body_built_from_rows_is_the_body_built_from_recipients(
    project: Path,
    people_: list[tuple[str, str, dict[str, str] | None, int | None]],
    tokens: set[str],
    mailto: str | None,
    tracking: str,
    tracked: bool,
) -> None:
    """The request body a big send builds straight from journal rows is byte for byte the
    one built from the recipients those rows make (any tokens, names needing escapes,
    rows with and without merge values, with and without a mailto unsubscribe, a batch of
    readers who agreed to tracking or not, readers with their own send time or not, the
    greeting in each row's language)."""
    project_settings = open_issue(project / ISSUE)[0].settings
    _, _, rendered = open_issue(project / ISSUE)
    message = dataclasses.replace(
        make_message(rendered, project_settings, send_id="s-1"), tokens=tuple(sorted(tokens)), unsubscribe_mailto=mailto
    )
    maker = recipient_maker(project_settings, b"s" * 32, ("en", "cy"))
    now = int(time.time())
    timed = [
        (first, last, vals if ahead is None else {**(vals or {}), SEND_AT_KEY: now + ahead}, ahead)
        for first, last, vals, ahead in people_
    ]
    rows = [
        (i, f"p{i}@example.org", first, last, None if vals is None else orjson.dumps(vals).decode())
        for i, (first, last, vals, _) in enumerate(timed, 1)
    ]
    builder = PayloadBuilder(message, project_settings.delivery.sendgrid, tracking=tracking)
    batch = Batch(rows, maker, tracked)
    from_rows = builder.build(batch)
    assert from_rows == builder.build(Batch(rows, lambda row: maker(row), tracked))  # from the recipients
    if not tracked:
        assert from_rows == builder.build([maker(row) for row in rows])
    body = orjson.loads(from_rows)
    assert check_body(body) == []
    assert [p.get("send_at") for p in body["personalizations"]] == [None if ahead is None else now + ahead for *_, ahead in timed]
    on = tracking == "consented" and tracked
    assert body["tracking_settings"]["click_tracking"]["enable"] is on
    assert body["tracking_settings"]["open_tracking"]["enable"] is on
    # the request process gets the spec and the rows as JSON, and builds the same bytes
    in_child = RowsBody(builder.rows_body(maker, tracked).spec).build(orjson.loads(batch.rows_json()))
    assert in_child == from_rows
