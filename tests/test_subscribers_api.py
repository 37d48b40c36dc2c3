"""The audience package's public interface, which sending and previews rely on, pinned."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path

import newsletter.audience as audience
from newsletter.audience import AudienceSummary, Subscriber
from newsletter.issue.model import Audience

NAMES = {"Audience": Audience}


def test_exported_names() -> None:
    assert sorted(audience.__all__) == [
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


def test_subscriber_shape() -> None:
    assert Subscriber.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert hasattr(Subscriber, "__slots__")
    hints = typing.get_type_hints(Subscriber)
    assert [f.name for f in dataclasses.fields(Subscriber)] == [
        "email",
        "first_name",
        "last_name",
        "status",
        "tags",
        "fields",
        "line",
    ]
    assert hints["tags"] == tuple[str, ...] and hints["fields"] == Mapping[str, str] and hints["line"] is int


def test_summary_keys() -> None:
    names = {f.name for f in dataclasses.fields(AudienceSummary)}
    assert {
        "total",
        "subscribed",
        "unsubscribed",
        "bounced",
        "complained",
        "invalid",
        "duplicates",
        "eligible",
        "excluded_by_tags",
        "by_tag",
        "problems",
        "warnings",
    } <= names


def test_signatures() -> None:
    e = inspect.signature(audience.eligible)
    assert list(e.parameters) == ["list_path", "audience", "check_dns", "require_evidence"]
    assert e.parameters["check_dns"].kind is inspect.Parameter.KEYWORD_ONLY
    assert e.parameters["require_evidence"].kind is inspect.Parameter.KEYWORD_ONLY
    assert typing.get_type_hints(audience.eligible, localns=NAMES)["return"] == Iterator[Subscriber]
    s = inspect.signature(audience.summarize)
    assert list(s.parameters) == ["list_path", "audience", "check_dns", "require_evidence"]
    u = inspect.signature(audience.unsubscribe)
    assert list(u.parameters)[:3] == ["list_path", "emails", "reason"]
    hints = typing.get_type_hints(audience.summarize, localns=NAMES)
    assert hints["list_path"] is Path and hints["audience"] == Audience | None
