"""Language rules: an issue in several languages has every text in each of them."""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule

FAMILY = "languages"

TRANSLATION_MISSING = rule(
    "translation-missing",
    "error",
    "A text of an issue in several languages lacks its words in one of them "
    "(readers of that language would get the default language's).",
    family=FAMILY,
)


@check(FAMILY)
def missing_translations(ctx: CheckContext) -> Iterator[Finding]:
    for problem in ctx.issue_file.missing:
        yield TRANSLATION_MISSING(problem.message, Where(problem.file, problem.line, problem.column, problem.field), problem.hint)


LANGUAGE_FALLBACK = rule(
    "language-fallback",
    "warning",
    "An issue in several languages, and a subscriber whose language column names a language it lacks "
    "(or is no language tag): they get the default language.",
    family=FAMILY,
)
FALLBACK_SHOWN = 50
"""Rows named one by one."""


@check(FAMILY)
def language_fallback(ctx: CheckContext) -> Iterator[Finding]:
    """Each reader the send gives the default language instead of theirs, at their row."""
    from newsletter.audience import eligible
    from newsletter.delivery.languages import COLUMN, chooser
    from newsletter.errors import NewsletterError, display_path

    languages, path = ctx.issue_file.languages, ctx.list_path
    if not languages or path is None or not path.is_file():
        return
    choose = chooser(languages, languages[0])
    shown = 0
    people = None
    try:
        people = eligible(path, ctx.issue_file.issue.audience, require_evidence=ctx.settings.consent == "required")
        for person in people:
            cell = person.fields.get(COLUMN, "").strip()
            lacking = choose(cell)[1] if cell else None
            if not lacking:
                continue
            if shown == FALLBACK_SHOWN:
                yield LANGUAGE_FALLBACK(
                    "and more readers whose language this issue lacks",
                    Where(display_path(path), person.line, None, COLUMN),
                    "the send's summary counts them all",
                )
                return
            shown += 1
            why = "is no language tag" if lacking == "?" else f"is not one of this issue's ({', '.join(languages)})"
            yield LANGUAGE_FALLBACK(
                f"language '{cell}' {why}: this reader gets {languages[0]}",
                Where(display_path(path), person.line, None, COLUMN),
                "write the reader's language as a tag (cy, cy-GB), or add it to the issue",
            )
    except NewsletterError:  # an unreadable list is reported by the recipient checks
        return
    finally:
        close = getattr(people, "close", None)
        if close is not None:
            close()
