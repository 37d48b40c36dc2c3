"""``provider-feature``: check reports, at the setting's line, the SendGrid extras that the
provider a send would use (here the outbox: no key, no SMTP_URL) cannot carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.checks import run_checks
from newsletter.project import open_issue
from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.test_provider_features import extras


@pytest.fixture
def no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENDGRID_API_KEY", "SMTP_URL"):
        monkeypatch.delenv(name, raising=False)


def test_check_reports_what_the_default_provider_cannot_carry_at_its_line(project: Path, no_provider_env: None) -> None:
    extras(project)
    lines = (project / "newsletter.yaml").read_text(encoding="utf-8").splitlines()
    proj, issue_file, rendered = open_issue(project / EXAMPLE_ISSUE)
    found = [f for f in run_checks(proj, issue_file, rendered) if f.rule == "provider-feature"]
    assert [f.severity for f in found] == ["warning"] * 3
    assert all("the outbox provider cannot carry it" in f.message for f in found)
    at = {f.field: f.line for f in found}
    for key in ("categories", "asm_group_id", "click_tracking"):
        field = f"delivery.sendgrid.{key}"
        assert at[field] == next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f"{key}:")), at


def test_check_with_sendgrid_reports_nothing_and_smtp_reports_it(project: Path) -> None:
    extras(project)
    with_key = run_cli("check", EXAMPLE_ISSUE, cwd=project, env={"SENDGRID_API_KEY": "SG.x"})
    with_smtp = run_cli("check", EXAMPLE_ISSUE, cwd=project, env={"SMTP_URL": "smtp://127.0.0.1:2525"})
    assert "[provider-feature]" not in with_key.out + with_key.err
    assert (with_smtp.out + with_smtp.err).count("the smtp provider cannot carry it") == 3
