"""Web edition rules: the page every email's "view in browser" link names should exist.

The link is ``web_archive_url`` + ``<slug>.html``; ``newsletter publish`` writes that
page (and the calendar files the "Add to calendar" links name) into ``site/``. Offline,
the check looks there; ``check --online`` requests the addresses themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding
from newsletter.checks.registry import check, rule
from newsletter.issue.events import issue_events
from newsletter.sitenames import SITE_DIR, event_calendar_name, page_name

FAMILY = "web"

WEB_NOT_PUBLISHED = rule(
    "web-not-published",
    "warning",
    "The issue's web page (the 'view in browser' link) or a calendar file is not in site/ yet.",
    family=FAMILY,
)
HINT = "run `newsletter publish` and upload site/ to web_archive_url before sending"


@check(FAMILY)
def published(ctx: CheckContext) -> Iterator[Finding]:
    site = ctx.project.root / SITE_DIR
    slug = ctx.issue_file.slug
    missing = [page_name(slug)] if not (site / page_name(slug)).is_file() else []
    missing += [
        name for name in (event_calendar_name(e.id) for e in issue_events(ctx.issue_file.issue)) if not (site / name).is_file()
    ]
    if not missing:
        return
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    yield WEB_NOT_PUBLISHED(
        f"{_what(missing, page_name(slug))} the email links to {'is' if len(missing) == 1 else 'are'} "
        f"not in {SITE_DIR}/ yet: {shown}",
        ctx.settings_at(("web_archive_url",)),
        HINT,
    )


def _what(missing: list[str], page: str) -> str:
    """The missing files named as a subject that agrees with its verb."""
    files = len(missing) - (page in missing)
    calendars = "a calendar file" if files == 1 else f"{files} calendar files"
    if page not in missing:
        return calendars
    return "the page" + (f" and {calendars}" if files else "")


EVENT_IDENTITY = rule(
    "event-identity-changed",
    "warning",
    "An event already published would get a new identity: readers' calendars would keep the old entry and add another.",
    family=FAMILY,
)


@check(FAMILY)
def identities(ctx: CheckContext) -> Iterator[Finding]:
    """An event published before whose day or title changed, and has no ``id:`` to keep it."""
    from newsletter.errors import NewsletterError
    from newsletter.web.state import read_state

    try:
        state = read_state(ctx.project.root)
    except NewsletterError:
        return  # a damaged published.json is publish's to report
    record = state.issues.get(ctx.issue_file.slug)
    if record is None:
        return
    current = issue_events(ctx.issue_file.issue)
    ids = {e.id for e in current}
    lost = [event_id for event_id in record.events if event_id not in ids]
    new = [e for e in current if e.id not in record.events and e.id not in state.events]
    for old, event in zip(lost, new):
        yield EVENT_IDENTITY(
            f"the event {event.event.title!r} gets the identity {event.id}, but the one published as {old} "
            "is gone: a reader who added it to their calendar keeps the old entry and the link in the "
            "email already sent opens the old one",
            ctx.issue_at(("blocks", event.block, "items", event.item)),
            f"if it is the same event, add `id: {old}` to it: its calendar entry is then updated instead",
        )
