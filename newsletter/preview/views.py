"""What the page is sent: plain JSON made from a :class:`~newsletter.preview.site.Snapshot`.

Each response is made from one snapshot, so the email, its text, headers and
warnings always belong to the same build. Nothing here reads the environment: no
API key or SMTP password can reach a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from newsletter.audience import Subscriber
from newsletter.delivery.headers import ONE_CLICK, list_unsubscribe, mailbox
from newsletter.errors import Problem
from newsletter.preview.readers import SAMPLE, key_of, label_of
from newsletter.preview.sends import NOT_SENT, SendState
from newsletter.preview.site import IssueBuild, Snapshot
from newsletter.render.personalize import Greeting, recipient_values
from newsletter.render.pipeline import GMAIL_CLIP_BYTES, SIZE_WARNING_BYTES, Rendered
from newsletter.settings import Mailbox, Settings

PREVIEW_TOKEN = "preview-token"
"""Stands in for the reader's unsubscribe token, which is made per reader at send time."""


def _problem(p: Problem) -> dict[str, Any]:
    return {**p.as_dict(), "location": p.location(), "text": str(p)}


def _issue_summary(build: IssueBuild) -> dict[str, Any]:
    return {
        "slug": build.slug,
        "file": build.file,
        "title": build.title,
        "subject": build.subject,
        "date": build.date,
        "ok": build.ok,
        "summary": build.summary,
        "problem_count": len(build.problems),
        "size_bytes": build.rendered.size_bytes if build.rendered else None,
        "warning_count": len(build.rendered.warnings) if build.rendered else 0,
        "check_errors": sum(f.severity == "error" for f in build.findings),
        "check_warnings": sum(f.severity == "warning" for f in build.findings),
    }


def index(snapshot: Snapshot, sends: Mapping[str, SendState]) -> dict[str, Any]:
    """Every issue, each with where its send stands (``sends``: by slug)."""
    return {
        "version": snapshot.version,
        "name": snapshot.name,
        "problems": [_problem(p) for p in snapshot.problems],
        "issues": [_issue_summary(b) | {"send": sends.get(b.slug, NOT_SENT).as_dict()} for b in snapshot.issues],
    }


def _mailbox(box: Mailbox) -> str:
    return mailbox(box.name, box.email)


def _headers(settings: Settings, rendered: Rendered, reader: Subscriber, unsubscribe: str) -> list[list[str]]:
    """The headers as sent to ``reader``, made by the send's own header builder (shown
    decoded: names with accents stay readable)."""
    name = f"{reader.first_name} {reader.last_name}".strip()
    return [
        ["From", _mailbox(settings.sender)],
        ["Reply-To", _mailbox(settings.replies_to)],
        ["To", mailbox(name, reader.email)],
        ["Subject", rendered.subject],
        ["Preheader", rendered.preheader or "(none: inboxes show the email's first words)"],
        ["List-Unsubscribe", list_unsubscribe(unsubscribe, settings.delivery.list_unsubscribe_mailto)],
        ["List-Unsubscribe-Post", ONE_CLICK],
    ]


def issue(
    snapshot: Snapshot, build: IssueBuild, reader_key: str, web: tuple[str | None, str] = (None, ""), send: SendState = NOT_SENT
) -> dict[str, Any]:
    """The issue as the reader ``reader_key`` would get it (the sample reader if unknown),
    ``web``: its web page as ``newsletter publish`` writes it (or the problem making it),
    and ``send``: where its send stands."""
    readers = (SAMPLE, *build.readers)
    reader = next((r for r in readers if key_of(r) == reader_key), SAMPLE)
    out: dict[str, Any] = {
        "version": snapshot.version,
        "name": snapshot.name,
        **_issue_summary(build),
        "problems": [_problem(p) for p in build.problems],
        "readers": [{"key": key_of(r), "label": label_of(r)} for r in readers],
        "reader": key_of(reader),
        "list_problem": build.list_problem,
        "checks": {
            "findings": [{**f.as_dict(), "location": f.location()} for f in build.findings],
            "problem": build.check_problem,
        },
        "email": None,
        "languages": list(build.issue_file.languages) if build.issue_file is not None else [],
        "language": build.issue_file.language or "" if build.issue_file is not None else "",
        "web": {"html": web[0], "problem": web[1]},
        "send": send.as_dict(),
    }
    settings = snapshot.settings
    if build.rendered is None or settings is None:
        return out
    unsubscribe = settings.unsubscribe_url.replace("{token}", PREVIEW_TOKEN)
    values = recipient_values(
        email=reader.email,
        first_name=reader.first_name,
        last_name=reader.last_name,
        unsubscribe_url=unsubscribe,
        fallback_first_name=settings.fallback_first_name,
        greeting=Greeting.of(settings, (build.rendered.language,) if build.rendered.language else None),
        extra=reader.fields,
        language=build.rendered.language or "",
    )
    html, text = build.rendered.fill(values)
    out["email"] = {
        "html": html,
        "text": text,
        "size_bytes": len(html.encode("utf-8")),
        "clip_bytes": GMAIL_CLIP_BYTES,
        "warn_bytes": SIZE_WARNING_BYTES,
        "headers": _headers(settings, build.rendered, reader, unsubscribe),
        "warnings": list(build.rendered.warnings),
        "token_note": "The unsubscribe token is made for each reader when the issue is sent.",
    }
    return out
