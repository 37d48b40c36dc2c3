"""Language rules: an issue in several languages has every text in each of them."""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule

FAMILY = "languages"

TRANSLATION_MISSING = rule(
    "translation-missing", "error",
    "A text of an issue in several languages lacks its words in one of them "
    "(readers of that language would get the default language's).",
    family=FAMILY,
)


@check(FAMILY)
def missing_translations(ctx: CheckContext) -> Iterator[Finding]:
    for problem in ctx.issue_file.missing:
        yield TRANSLATION_MISSING(
            problem.message, Where(problem.file, problem.line, problem.column, problem.field), problem.hint
        )
