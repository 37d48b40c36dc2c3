"""The rules and the checks that apply them, registered by each family's module.

A family module declares its rules with :func:`rule` and its check functions with
:func:`check`; :func:`checks` imports the families in a fixed order, so the
findings come out in the same order every run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from newsletter.checks.finding import Finding, Rule, Severity

if TYPE_CHECKING:
    from newsletter.checks.context import CheckContext

CheckFunction = Callable[["CheckContext"], Iterable[Finding]]

# Offline families, in the order their findings are gathered; "online" runs on request.
FAMILIES = (
    "headers",
    "history",
    "approval",
    "compliance",
    "links",
    "markup",
    "images",
    "size",
    "a11y",
    "contrast",
    "content",
    "languages",
    "web",
)
ONLINE_FAMILY = "online"

RULES: dict[str, Rule] = {}
_CHECKS: dict[str, list[CheckFunction]] = {}


def rule(rule_id: str, severity: Severity, summary: str, *, family: str) -> Rule:
    """Declare a rule; ids are unique and stable."""
    if rule_id in RULES:
        raise ValueError(f"rule '{rule_id}' is declared twice")
    declared = Rule(rule_id, severity, family, summary)
    RULES[rule_id] = declared
    return declared


def check(family: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a function that yields the findings of one or more rules of ``family``."""

    def register(func: CheckFunction) -> CheckFunction:
        _CHECKS.setdefault(family, []).append(func)
        return func

    return register


def _load(family: str) -> None:
    importlib.import_module(f"newsletter.checks.{family}")


def checks(*, online: bool = False) -> list[CheckFunction]:
    """The check functions to run, in a fixed order."""
    families = FAMILIES + ((ONLINE_FAMILY,) if online else ())
    out: list[CheckFunction] = []
    for family in families:
        _load(family)
        out.extend(_CHECKS.get(family, []))
    return out


def all_rules() -> dict[str, Rule]:
    """Every rule of every family (online included), by id."""
    for family in FAMILIES + (ONLINE_FAMILY,):
        _load(family)
    return dict(RULES)
