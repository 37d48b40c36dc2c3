"""SendGrid's extras (categories, an unsubscribe group, tracking) asked of SMTP or the outbox are
never dropped without a word: every send mode warns before anything is sent, naming the
setting and the provider (``check`` reports it too: tests/test_check_provider.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.sendgrid_server import KEY, SendGridServer
from tests.smtp_server import SmtpServer

EXTRAS = "delivery:\n  sendgrid:\n    asm_group_id: 7\n    categories: [team]\n    click_tracking: true\n"
WARNINGS = (
    "warning: delivery.sendgrid.categories: the {p} provider cannot carry it: its messages have no SendGrid categories",
    "warning: delivery.sendgrid.asm_group_id: the {p} provider cannot carry it: its messages keep our own unsubscribe link",
    "warning: delivery.sendgrid.click_tracking: the {p} provider cannot carry it: nobody's clicks or opens are tracked",
)


def extras(project: Path, text: str = EXTRAS) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + text, encoding="utf-8")


def warned(err: str, provider: str) -> list[str]:
    return [w.format(p=provider) for w in WARNINGS if w.format(p=provider) in err]


def test_an_outbox_send_warns_of_each_extra_before_writing(project: Path) -> None:
    extras(project)
    asked = run_cli("send", EXAMPLE_ISSUE, "--provider", "outbox", cwd=project)  # no terminal to ask in
    assert asked.code == 2 and not (project / "outbox").exists()
    assert warned(asked.err, "outbox") == [w.format(p="outbox") for w in WARNINGS]  # said before anything
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.err
    assert warned(result.err, "outbox") == [w.format(p="outbox") for w in WARNINGS]
    assert len(list((project / "outbox").rglob("*.eml"))) == 5


def test_an_smtp_send_and_its_rehearsals_warn_of_each_extra(project: Path) -> None:
    extras(project)
    with SmtpServer() as server:
        env = {"SMTP_URL": server.url}
        dry = run_cli("send", EXAMPLE_ISSUE, "--dry-run", "--provider", "smtp", cwd=project, env=env)
        test = run_cli("send", EXAMPLE_ISSUE, "--test-to", "me@example.org", "--provider", "smtp", cwd=project, env=env)
        real = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env=env)
        sent = len(server.handler.messages)
    for result in (dry, test, real):
        assert warned(result.err, "smtp") == [w.format(p="smtp") for w in WARNINGS], result.err
    assert real.code == 0 and sent == 1 + 5


def test_tracking_consented_is_named_as_the_setting(project: Path) -> None:
    extras(project, "tracking: consented\n")
    (project / "subscribers.csv").write_text(_with_consent_column(project / "subscribers.csv"), encoding="utf-8")
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.err
    assert (
        "warning: tracking: consented: the outbox provider cannot carry it: nobody's clicks or opens are tracked"
    ) in result.err


def _with_consent_column(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join([lines[0] + ",tracking_consent", *(line + ",yes" for line in lines[1:])]) + "\n"


def test_a_sendgrid_send_carries_every_extra_without_a_warning(project: Path, sendgrid_server: SendGridServer) -> None:
    extras(project)
    sendgrid_server.account.group(7)
    result = run_cli(
        "send", EXAMPLE_ISSUE, "--yes", cwd=project, env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url}
    )
    assert result.code == 0, result.err
    assert "cannot carry" not in result.out + result.err
    body = sendgrid_server.log.requests[0]
    assert body["asm"] == {"group_id": 7} and "team" in body["categories"]
    assert body["tracking_settings"]["click_tracking"]["enable"] is True
