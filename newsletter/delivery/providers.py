"""Choosing and making a provider from ``--provider`` and the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from newsletter.delivery.api import KEY_ENV, api_host, api_key
from newsletter.delivery.base import Provider, Traits
from newsletter.delivery.outbox import OutboxProvider
from newsletter.errors import UsageError
from newsletter.settings import Settings

ProviderName = Literal["sendgrid", "smtp", "outbox"]
PROVIDERS: tuple[ProviderName, ...] = ("sendgrid", "smtp", "outbox")


def default_provider() -> ProviderName:
    """SendGrid when a key is configured; else SMTP when ``SMTP_URL`` names a server (the
    editor configured one to send with); else the outbox (so a fresh machine can send)."""
    import os

    from newsletter.delivery.smtp import URL_ENV

    if api_key():
        return "sendgrid"
    return "smtp" if os.environ.get(URL_ENV, "").strip() else "outbox"


def resume_command(issue: str, provider: str, *flags: str) -> str:
    """The command that resumes a send: it names the send's provider, as the default
    (:func:`default_provider`) may be another one, whose send is a separate one."""
    return " ".join(("newsletter send", issue, "--yes", "--provider", provider, *flags))


def send_key(slug: str, provider: ProviderName) -> str:
    """One journal entry per issue for real delivery (SendGrid and SMTP share it, so
    switching provider mid-send cannot send twice); the outbox keeps its own."""
    return slug if traits(provider).delivers else f"{slug}@{provider}"


def outbox_folder(root: Path, settings: Settings, name: str) -> Path:
    return root / settings.delivery.outbox / name


def recorded(name: str) -> ProviderName | None:
    """The provider a journal's send names (None for one this version does not know)."""
    return next((known for known in PROVIDERS if known == name), None)


def traits(name: ProviderName) -> Traits:
    """A provider's declarations (``can_schedule``, ``has_sandbox``…), read before one is made."""
    if name == "sendgrid":
        from newsletter.delivery.sendgrid import SendGridProvider

        return SendGridProvider.traits
    if name == "smtp":
        from newsletter.delivery.smtp import SmtpProvider

        return SmtpProvider.traits
    return OutboxProvider.traits


def check_environment(name: ProviderName) -> None:
    """Refuse, before anything is done, a provider whose settings in the environment
    cannot work (no key, an API host without https://, an SMTP_URL that is not one)."""
    if name == "sendgrid":
        if not api_key():
            raise UsageError(f"--provider sendgrid needs {KEY_ENV} in the environment")
        api_host()
    elif name == "smtp":
        from newsletter.delivery.smtp import smtp_url_from_env

        smtp_url_from_env()


def make_provider(
    name: ProviderName,
    settings: Settings,
    root: Path,
    *,
    folder: str,
    sandbox: bool = False,
    background: bool = False,
    lock: Path | None = None,
) -> Provider:
    """``background``: SendGrid posts from a second process while the next batch is built
    (holding ``lock`` while it lives)."""
    if name == "sendgrid":
        from newsletter.delivery.sendgrid import SendGridProvider

        check_environment(name)
        return SendGridProvider(
            api_key(), settings.delivery.sendgrid, sandbox=sandbox, background=background, lock=lock, tracking=settings.tracking
        )
    if name == "smtp":
        from newsletter.delivery.dkim import signer_from_env
        from newsletter.delivery.smtp import SmtpProvider, smtp_url_from_env

        return SmtpProvider(smtp_url_from_env(), settings.delivery.smtp, signer=signer_from_env(settings.sender.email))
    return OutboxProvider(outbox_folder(root, settings, folder))
