"""Size rules: Gmail clips messages whose HTML is over 102 KB, hiding the rest of the
email and, with it, the footer's unsubscribe link. Measured after personalisation."""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding
from newsletter.checks.registry import check, rule
from newsletter.render.pipeline import GMAIL_CLIP_BYTES, SIZE_WARNING_BYTES

FAMILY = "size"

SIZE_CLIPPED = rule(
    "size-clipped",
    "error",
    f"The personalised HTML is over {GMAIL_CLIP_BYTES // 1024} KB: Gmail clips it.",
    family=FAMILY,
)
SIZE_NEAR_LIMIT = rule(
    "size-near-limit",
    "warning",
    f"The personalised HTML is over {SIZE_WARNING_BYTES // 1024} KB, close to Gmail's limit.",
    family=FAMILY,
)


@check(FAMILY)
def html_size(ctx: CheckContext) -> Iterator[Finding]:
    size = len(ctx.html.encode("utf-8"))
    kb = f"{size / 1024:.1f} KB"
    at = ctx.issue_at(("blocks",))
    hint = "shorten the text or move some of it to the website and link to it"
    if size > GMAIL_CLIP_BYTES:
        yield SIZE_CLIPPED(
            f"the HTML is {kb} for the longest recipient; Gmail clips messages over "
            f"{GMAIL_CLIP_BYTES // 1024} KB and hides the rest, unsubscribe link included",
            at,
            hint,
        )
    elif size > SIZE_WARNING_BYTES:
        yield SIZE_NEAR_LIMIT(
            f"the HTML is {kb} for the longest recipient, close to Gmail's {GMAIL_CLIP_BYTES // 1024} KB clipping limit",
            at,
            hint,
        )
