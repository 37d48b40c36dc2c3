"""The subscriber list: ``subscribers.csv`` read, validated, deduplicated, suppressed, segmented.

Entry points: :func:`eligible` (who gets an issue, streamed), :func:`summarize` (the
figures) and :func:`entries`; :func:`import_list` and :func:`unsubscribe` change the list.
The public interface (pinned by ``tests/test_subscribers_api.py``); everything
else in this package is private.
"""

from newsletter.audience.edit import Unsubscribed, unsubscribe
from newsletter.audience.imports import ConsentAnswer, ImportResult, Outcome, import_list
from newsletter.audience.select import (
    AudienceSummary,
    Entry,
    Longest,
    Subscriber,
    eligible,
    entries,
    longest_values,
    summarize,
)

__all__ = [
    "AudienceSummary",
    "ConsentAnswer",
    "Entry",
    "ImportResult",
    "Longest",
    "Outcome",
    "Subscriber",
    "Unsubscribed",
    "eligible",
    "entries",
    "import_list",
    "longest_values",
    "summarize",
    "unsubscribe",
]
