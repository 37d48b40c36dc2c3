"""Header rules: the subject and preheader, and line breaks in any header value.

A CR or LF in a header value lets text become a new header (header injection);
the loader refuses them in the issue and settings, but names and addresses from
the subscriber list and template output reach headers too, so they are checked
here as the message would be built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule
from newsletter.errors import NewsletterError

FAMILY = "headers"
SUBJECT_MAX = 998  # RFC 5322: a line of a message may hold at most 998 characters
SUBJECT_SHOWN = 60  # what most inboxes show of a subject
PREHEADER_RANGE = (40, 140)

SUBJECT_EMPTY = rule("subject-empty", "error", "The subject is empty.", family=FAMILY)
SUBJECT_TOO_LONG = rule("subject-too-long", "error", f"The subject is over {SUBJECT_MAX} characters.", family=FAMILY)
HEADER_NEWLINE = rule(
    "header-newline",
    "error",
    "A header value (subject, from, to, reply-to, "
    "List-Unsubscribe, a subscriber's name) holds a line break (CR/LF) or a control character.",
    family=FAMILY,
)
SUBJECT_LONG = rule(
    "subject-long",
    "warning",
    f"The subject is over {SUBJECT_SHOWN} characters: inboxes cut it.",
    family=FAMILY,
)
SUBJECT_CAPITALS = rule("subject-capitals", "warning", "The subject is in capitals.", family=FAMILY)
ADDRESS_SMTPUTF8 = rule(
    "address-smtputf8",
    "warning",
    "Subscriber addresses have non-ASCII characters before the @: SendGrid does not deliver to them, SMTP only with SMTPUTF8.",
    family=FAMILY,
)
PREHEADER_MISSING = rule("preheader-missing", "warning", "There is no preheader.", family=FAMILY)
PREHEADER_LENGTH = rule(
    "preheader-length",
    "warning",
    f"The preheader is shorter than {PREHEADER_RANGE[0]} or longer than {PREHEADER_RANGE[1]} characters.",
    family=FAMILY,
)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _breaks(value: str) -> bool:
    return _CONTROL.search(value) is not None


def in_capitals(text: str) -> bool:
    """Mostly upper-case letters (at least 6 letters, more than half of them capitals)."""
    letters = [c for c in text if c.isalpha() and c.lower() != c.upper()]
    upper = sum(1 for c in letters if c.isupper())
    return len(letters) >= 6 and upper * 2 > len(letters)


@check(FAMILY)
def subject(ctx: CheckContext) -> Iterator[Finding]:
    value = ctx.rendered.subject
    at = ctx.issue_at(("subject",))
    if not value.strip():
        yield SUBJECT_EMPTY("the subject is empty", at, "write a subject: it is what readers decide on")
        return
    if len(value) > SUBJECT_MAX:
        yield SUBJECT_TOO_LONG(
            f"the subject is {len(value)} characters; at most {SUBJECT_MAX} fit in a header line",
            at,
            f"keep it under {SUBJECT_SHOWN} characters",
        )
    elif len(value) > SUBJECT_SHOWN:
        yield SUBJECT_LONG(
            f"the subject is {len(value)} characters; inboxes show about the first {SUBJECT_SHOWN}",
            at,
            "put the important words first, or shorten it",
        )
    if in_capitals(value):
        yield SUBJECT_CAPITALS(
            "the subject is in capitals",
            at,
            "capitals read as shouting and spam filters score them; use sentence case",
        )


@check(FAMILY)
def preheader(ctx: CheckContext) -> Iterator[Finding]:
    value = ctx.rendered.preheader.strip()
    low, high = PREHEADER_RANGE
    if not value:
        yield PREHEADER_MISSING(
            'no preheader: inboxes will show the first words of the email ("View this email…")',
            ctx.issue_at(("preheader",)),
            f"add preheader: with a {low}–{high} character summary",
        )
    elif not low <= len(value) <= high:
        yield PREHEADER_LENGTH(
            f"the preheader is {len(value)} characters; {low}–{high} reads best in inboxes",
            ctx.issue_at(("preheader",)),
            "lengthen it to fill the preview line" if len(value) < low else "shorten it",
        )


@check(FAMILY)
def header_values(ctx: CheckContext) -> Iterator[Finding]:
    hint = "remove the line break: it would let the text become a header of its own"
    s = ctx.settings
    values: list[tuple[str, str, Where]] = [
        ("Subject", ctx.rendered.subject, ctx.issue_at(("subject",))),
        ("From", s.from_.name, ctx.settings_at(("from", "name"))),
        ("From", s.from_.email, ctx.settings_at(("from", "email"))),
        ("Reply-To", s.replies_to.name, ctx.settings_at(("reply_to", "name"))),
        ("Reply-To", s.replies_to.email, ctx.settings_at(("reply_to", "email"))),
        ("List-Unsubscribe", ctx.sample.values.get("unsubscribe_url", ""), ctx.settings_at(("unsubscribe_url",))),
    ]
    list_file = Where(ctx.sample.list_file or "subscribers.csv")
    values += [("To", ctx.sample.values.get(name, ""), list_file) for name in ("first_name", "last_name")]
    for header, value, at in values:
        if _breaks(value):
            yield HEADER_NEWLINE(f"the {header} header would hold a line break or control character", at, hint)
    for problem in ctx.sample.name_problems:
        yield HEADER_NEWLINE(
            f"{problem.field.replace('_', ' ')} holds a control character: this subscriber is not mailed",
            Where(problem.file, problem.line, None, problem.field),
            "delete it: it would reach the message's To: header",
        )


@check(FAMILY)
def international_addresses(ctx: CheckContext) -> Iterator[Finding]:
    """Addresses a send would refuse (SendGrid) or need SMTPUTF8 for (the list's own warnings)."""
    from newsletter.audience import summarize
    from newsletter.audience.scan import SMTPUTF8_WARNING

    path = ctx.list_path
    if path is None or not path.is_file():
        return
    try:
        summary = summarize(
            path,
            ctx.issue_file.issue.audience,  # the figures the send's check reads too
            require_evidence=ctx.settings.consent == "required",
        )
        found = [w for w in summary.warnings if SMTPUTF8_WARNING in w.message]
    except NewsletterError:  # an unreadable list is reported by the recipient checks
        return
    if found:
        first = found[0]
        yield ADDRESS_SMTPUTF8(
            f"{len(found)} subscriber address(es) have non-ASCII characters before the @, e.g. {first.message}",
            Where(first.file, first.line, None, "email"),
            "a SendGrid send marks them failed with the reason; `newsletter subscribers check` lists them all",
        )
