"""What an issue's settings ask of a send that its provider cannot carry, said before anything is sent.

SendGrid carries every :data:`~newsletter.delivery.base.Feature`; SMTP and the outbox carry
none (their :attr:`~newsletter.delivery.base.Traits.carries` says so). Nothing is dropped
silently: each feature asked for and not carried is a declared warning, printed by every
send mode (dry run, test send, the real send, a correction) before anything is sent, and
reported by ``newsletter check`` (``provider-feature``) for the provider a send would use.
Each feature's choice, and why it is a warning rather than a refusal (its absence costs
the editor figures or SendGrid's bookkeeping, never a reader their rights):

* ``categories`` (``delivery.sendgrid.categories``): SendGrid's statistics only; the mail
  is the same without them: warned.
* ``asm group`` (``delivery.sendgrid.asm_group_id``, ``unsubscribe: sendgrid``): the
  messages keep our own one-click link and visible link (``unsubscribe_url``), and SendGrid
  does not leave out who left the group since the last ``subscribers sync``: warned (the
  editor's guide promises that SMTP and outbox mail keep our own link).
* ``tracking`` (``tracking: consented``, ``delivery.sendgrid.click_tracking`` or
  ``open_tracking`` on): nobody is tracked, which is less than asked and never more:
  warned (the editor's guide promises that SMTP and the outbox never track).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from newsletter.delivery.base import Feature, Traits
from newsletter.settings import Settings

_WHAT: dict[Feature, str] = {
    "categories": "its messages have no SendGrid categories (they only sort SendGrid's statistics)",
    "asm group": (
        "its messages keep our own unsubscribe link (unsubscribe_url), and nobody is left out for "
        "having left the SendGrid group since the last `newsletter subscribers sync`"
    ),
    "tracking": "nobody's clicks or opens are tracked",
}


@dataclass(frozen=True, slots=True)
class Unsupported:
    """One feature the settings ask for that a provider cannot carry."""

    feature: Feature
    setting: str
    """The setting(s) that ask for it, as written in ``newsletter.yaml``."""
    provider: str
    path: tuple[str, ...]
    """Where the setting is in ``newsletter.yaml`` (for ``check`` to point at its line)."""

    def __str__(self) -> str:
        return f"{self.setting}: the {self.provider} provider cannot carry it: {_WHAT[self.feature]}"


_SENDGRID = ("delivery", "sendgrid")


def asked(settings: Settings) -> Iterator[tuple[Feature, str, tuple[str, ...]]]:
    """Each feature the settings ask for, with the setting that asks and where it is."""
    sendgrid = settings.delivery.sendgrid
    if sendgrid.categories:
        yield "categories", "delivery.sendgrid.categories", (*_SENDGRID, "categories")
    if settings.unsubscribe == "sendgrid":
        yield "asm group", "unsubscribe: sendgrid (delivery.sendgrid.asm_group_id)", ("unsubscribe",)
    elif sendgrid.asm_group_id is not None:
        yield "asm group", "delivery.sendgrid.asm_group_id", (*_SENDGRID, "asm_group_id")
    trackers = [
        name for name, on in (("click_tracking", sendgrid.click_tracking), ("open_tracking", sendgrid.open_tracking)) if on
    ]
    if settings.tracking == "consented" and (sendgrid.click_tracking is not False or sendgrid.open_tracking is not False):
        yield "tracking", "tracking: consented", ("tracking",)
    elif trackers:
        yield "tracking", " and ".join(f"delivery.sendgrid.{name}" for name in trackers), (*_SENDGRID, trackers[0])


def unsupported(settings: Settings, provider: str, traits: Traits) -> list[Unsupported]:
    """What the settings ask for that this provider cannot carry."""
    return [
        Unsupported(feature, setting, provider, path)
        for feature, setting, path in asked(settings)
        if feature not in traits.carries
    ]
