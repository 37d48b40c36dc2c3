"""Choosing and making a provider from ``--provider`` and the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from newsletter.delivery.base import Provider
from newsletter.delivery.outbox import OutboxProvider
from newsletter.delivery.sendgrid import KEY_ENV, SendGridProvider, api_key
from newsletter.errors import UsageError
from newsletter.settings import Settings

ProviderName = Literal["sendgrid", "smtp", "outbox"]
PROVIDERS: tuple[ProviderName, ...] = ("sendgrid", "smtp", "outbox")


def default_provider() -> ProviderName:
    """SendGrid when a key is configured, else the outbox (so a fresh machine can send)."""
    return "sendgrid" if api_key() else "outbox"


def send_key(slug: str, provider: ProviderName) -> str:
    """One journal entry per issue for real delivery (SendGrid and SMTP share it, so
    switching provider mid-send cannot send twice); the outbox keeps its own."""
    return f"{slug}@outbox" if provider == "outbox" else slug


def outbox_folder(root: Path, settings: Settings, name: str) -> Path:
    return root / settings.delivery.outbox / name


def make_provider(
    name: ProviderName, settings: Settings, root: Path, *, folder: str, sandbox: bool = False,
    background: bool = False,
) -> Provider:
    """``background``: SendGrid posts from a second process while the next batch is built."""
    if name == "sendgrid":
        key = api_key()
        if not key:
            raise UsageError(f"--provider sendgrid needs {KEY_ENV} in the environment")
        return SendGridProvider(key, settings.delivery.sendgrid, sandbox=sandbox, background=background)
    if name == "smtp":
        from newsletter.delivery.smtp import SmtpProvider, smtp_url_from_env

        return SmtpProvider(smtp_url_from_env(), settings.delivery.smtp)
    return OutboxProvider(outbox_folder(root, settings, folder))
