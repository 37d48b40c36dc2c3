"""``newsletter doctor``: is the sending domain ready (SPF, DKIM, DMARC, alignment with
SendGrid's authenticated domain); prints each finding and the DNS records to add."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.deliverability.doctor import Diagnosis, cached, inputs_for
from newsletter.delivery.providers import check_environment, default_provider
from newsletter.errors import ProblemsFound
from newsletter.settings import find_project_root, load_settings

MEANING = {
    "ok": "ok",
    "warning": "warning",
    "error": "ERROR",
    "unknown": "unknown",
}


def doctor(start: Path, provider: str | None) -> Diagnosis:
    root = find_project_root(start)
    settings = load_settings(root)
    name = provider or ("smtp" if default_provider() == "outbox" and _smtp_configured() else "sendgrid")
    if provider is not None:
        check_environment(name)  # type: ignore[arg-type]
    return cached(root, inputs_for(settings, name), fresh=True)


def _smtp_configured() -> bool:
    import os

    return bool(os.environ.get("SMTP_URL", "").strip())


def show(diagnosis: Diagnosis) -> None:
    click.echo(f"Sending domain, for {diagnosis.provider}:")
    for f in diagnosis.findings:
        click.echo(f"  {MEANING[f.level]:<8} {f.domain}  {f.topic}: {f.message}")
    zone = diagnosis.zone()
    if zone:
        click.echo("\nRecords to add to the domain's DNS (zone-file lines; keep one SPF record per name):")
        click.echo(zone)
    errors, warnings = len(diagnosis.errors), sum(f.level in ("warning", "unknown") for f in diagnosis.findings)
    if errors:
        click.echo(f"\n{errors} error(s): a real send refuses this From address until they are fixed.")
        raise ProblemsFound("the sending domain is not ready")
    click.echo(f"\n{warnings} warning(s); no error: a send may go ahead." if warnings else "\nThe sending domain is ready.")
