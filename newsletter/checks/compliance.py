"""Compliance rules: every email needs a visible unsubscribe link and the sender's
postal address in its footer (CAN-SPAM, PECR guidance, RFC 8058's companion link)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from newsletter.checks import html as H
from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule
from newsletter.errors import NewsletterError, display_path

FAMILY = "compliance"

UNSUBSCRIBE = rule("unsubscribe-link", "error", "There is no visible per-recipient unsubscribe link.", family=FAMILY)
POSTAL_ADDRESS = rule("postal-address", "error", "The footer does not show the postal address.", family=FAMILY)

UNSUBSCRIBE_GROUP = rule("unsubscribe-group", "error", "unsubscribe: sendgrid without an unsubscribe group id.", family=FAMILY)

PROVIDER_FEATURE = rule(
    "provider-feature",
    "warning",
    "The settings ask for something the provider a send would use cannot carry.",
    family=FAMILY,
)

_LOOSE = re.compile(r"[\s,;]+")


def _loose(text: str) -> str:
    """Address text compared without regard to commas and line breaks."""
    return _LOOSE.sub(" ", text).strip().casefold()


def _where(ctx: CheckContext, snippet: str, setting: str) -> Where:
    """The override line using the setting, else the override that writes the footer,
    else the setting in newsletter.yaml."""
    found = ctx.in_templates(snippet)
    if found:
        return found
    for name in ("footer.mjml.j2", "base.mjml.j2"):
        override = ctx.project.root / "templates" / name
        if override.is_file():
            return Where(display_path(override))
    return ctx.settings_at((setting,))


@check(FAMILY)
def unsubscribe_link(ctx: CheckContext) -> Iterator[Finding]:
    links = [link for link in ctx.links if link.token_field == "unsubscribe_url"]
    visible = [link for link in links if link.name and not H.is_hidden(link.element)]
    if visible:
        return
    at = _where(ctx, "unsubscribe_url", "unsubscribe_url")
    if links:
        message = "the unsubscribe link is hidden or has no words"
    else:
        message = "the email has no per-recipient unsubscribe link"
    yield UNSUBSCRIBE(
        message,
        at,
        'the footer must show a link such as <a href="{{ recipient.unsubscribe_url }}">Unsubscribe</a>',
    )


def footer_text(ctx: CheckContext) -> str:
    """Visible text of the footer: from the band holding the unsubscribe link (else the
    last band) to the end of the email."""
    bands = H.sections(ctx.root)
    if not bands:
        return ""
    start = len(bands) - 1
    for link in ctx.links:
        if link.token_field == "unsubscribe_url":
            for i, band in enumerate(bands):
                if band is link.element or any(a is band for a in link.element.iterancestors()):
                    start = min(start, i)
    return " ".join(H.text_of(band) for band in bands[start:] if not H.is_hidden(band))


@check(FAMILY)
def postal_address(ctx: CheckContext) -> Iterator[Finding]:
    address = ctx.settings.postal_address
    if _loose(address) in _loose(footer_text(ctx)):
        return
    yield POSTAL_ADDRESS(
        "the footer does not show the postal address",
        _where(ctx, "postal_address", "postal_address"),
        "anti-spam law requires it in every email: keep {{ settings.postal_address }} in the footer",
    )


@check(FAMILY)
def unsubscribe_group(ctx: CheckContext) -> Iterator[Finding]:
    """SendGrid-managed unsubscribes need the group they are recorded in."""
    if ctx.settings.unsubscribe == "sendgrid" and ctx.settings.delivery.sendgrid.asm_group_id is None:
        yield UNSUBSCRIBE_GROUP(
            "unsubscribe: sendgrid needs an unsubscribe group, and none is set",
            ctx.settings_at(("unsubscribe",)),
            "set delivery.sendgrid.asm_group_id in newsletter.yaml to the id of the group (SendGrid: "
            "Suppressions > Unsubscribe Groups), or use unsubscribe: link",
        )


@check(FAMILY)
def provider_features(ctx: CheckContext) -> Iterator[Finding]:
    """Categories, an unsubscribe group or tracking asked of SMTP or the outbox: each send
    warns about it too (newsletter/delivery/features.py), here it is seen before the send."""
    from newsletter.delivery.features import unsupported
    from newsletter.delivery.providers import default_provider, traits

    provider = default_provider()
    for found in unsupported(ctx.settings, provider, traits(provider)):
        yield PROVIDER_FEATURE(
            str(found), ctx.settings_at(found.path), "send with --provider sendgrid (set SENDGRID_API_KEY), or change the setting"
        )


CONSENT_EVIDENCE = rule(
    "consent-evidence",
    "warning",
    "consent: required, and subscribers' rows lack evidence of consent: they are held back from the send.",
    family=FAMILY,
)
EVIDENCE_SHOWN = 50
"""Rows named one by one; ``newsletter subscribers check`` names every one."""


@check(FAMILY)
def consent_evidence(ctx: CheckContext) -> Iterator[Finding]:
    """Each subscriber a send would hold back for want of evidence of consent, at their row."""
    from newsletter.audience import summarize
    from newsletter.audience.evidence import HINT

    path = ctx.list_path
    if ctx.settings.consent != "required" or path is None or not path.is_file():
        return
    try:
        summary = summarize(path, ctx.issue_file.issue.audience, require_evidence=True)
    except NewsletterError:  # an unreadable list is reported by the recipient checks
        return
    shown = summary.unproven_rows[:EVIDENCE_SHOWN]
    for problem in shown:
        yield CONSENT_EVIDENCE(
            f"{problem.message.split(';')[0].split(', so all')[0]}: held back from this send",
            Where(problem.file, problem.line, None, problem.field),
            HINT,
        )
    more = summary.unproven - len(shown)
    if more > 0 and len(summary.unproven_rows) > len(shown):
        last = summary.unproven_rows[len(shown)]
        yield CONSENT_EVIDENCE(
            f"and {more:,} more subscribers without evidence of consent: held back from this send",
            Where(last.file, last.line, None, last.field),
            "`newsletter subscribers check` lists every one",
        )
