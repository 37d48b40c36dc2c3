"""The greeting in each reader's language: Welsh readers of an issue in English and Welsh
are greeted "Annwyl Amina," (the theme's catalog), English ones "Dear Ben,", through the
outbox and through the SendGrid test server; ``greeting`` may map language to words."""

from __future__ import annotations

import email
import email.policy
import shutil
from pathlib import Path

import pytest

from newsletter.render.personalize import Greeting
from newsletter.settings import load_settings
from tests.conftest import run_cli
from tests.sendgrid_server import KEY, SendGridServer
from tests.test_send_languages import ISSUE, SLUG, _project

EXPECTED = {
    "amina.okafor@example.org": "Annwyl Amina,",
    "chloe.martin@example.org": "Annwyl Chloé,",
    "ben.hughes@example.org": "Dear Ben,",
    "eilidh.campbell@example.org": "Dear Eilidh,",  # asked for French: gets the English email
    "farah.haddad@example.org": "Hello,",
    "george.osei@example.org": "Dear George,",
}


def _outbox_greetings(project: Path) -> dict[str, tuple[str, str]]:
    got: dict[str, tuple[str, str]] = {}
    for path in sorted((project / "outbox" / SLUG).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        line = next(
            line
            for line in text.splitlines()
            if line.endswith(",")
            and " " not in line.strip(",")
            or line.startswith(("Dear ", "Annwyl ", "Hello,", "Helo,", "Hi ", "Shwmae"))
        )
        got[msg["To"].addresses[0].addr_spec] = (line, html)
    return got


def test_outbox_each_reader_greeted_in_their_language(project: Path) -> None:
    _project(project)
    result = run_cli("send", ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.output
    got = _outbox_greetings(project)
    assert {to: line for to, (line, _) in got.items()} == EXPECTED
    for to, (line, html) in got.items():
        assert f">{line}</p>" in html, to
        assert ("Dear " in html) is line.startswith("Dear"), to


def test_sendgrid_each_reader_greeted_in_their_language(project: Path, sendgrid_server: SendGridServer) -> None:
    _project(project)
    result = run_cli("send", ISSUE, "--yes", cwd=project, env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url})
    assert result.code == 0, result.output
    got: dict[str, str] = {}
    for body in sendgrid_server.log.requests:
        for item in body["personalizations"]:
            (greeting,) = (v for k, v in item["substitutions"].items() if k.startswith("__nl_greeting_html"))
            got[item["to"][0]["email"]] = greeting
    assert got == EXPECTED
    assert sendgrid_server.log.invalid == []


def test_the_settings_may_map_language_to_greeting(project: Path) -> None:
    _project(project)
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write('greeting: {en: "Hi {first_name},", cy: "Shwmae {first_name},"}\n')
    result = run_cli("send", ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.output
    got = {to: line for to, (line, _) in _outbox_greetings(project).items()}
    assert got["amina.okafor@example.org"] == "Shwmae Amina,"
    assert got["ben.hughes@example.org"] == "Hi Ben,"
    assert got["farah.haddad@example.org"] == "Hello,"  # greeting_without_name left as built in


def test_words_of_the_editors_own_in_one_language_stay_as_written(project: Path) -> None:
    """A greeting written plainly (not the built-in one) is the editor's: every language gets it."""
    (project / "newsletter.yaml").write_text(
        (project / "newsletter.yaml").read_text(encoding="utf-8") + 'greeting: "Hi {first_name},"\n', encoding="utf-8"
    )
    greeting = Greeting.of(load_settings(project), ("en", "cy"))
    assert greeting("Amina", "cy") == "Hi Amina," and greeting("", "cy") == "Helo,"
    assert greeting("Ben", "en") == "Hi Ben," and greeting("", "") == "Hello,"
    assert greeting("Amina", "cy-GB") == "Hi Amina," and greeting("", "CY") == "Helo,"


def test_a_greeting_mapping_with_a_line_break_is_refused(project: Path) -> None:
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write('greeting: {en: "Dear {first_name},", cy: "Annwyl\\n{first_name},"}\n')
    result = run_cli("check", "issues/2024-06-june-team-update.yaml", cwd=project)
    assert result.code == 2, result.output
    assert "newsletter.yaml" in result.output and "greeting" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            'greeting:\n  en: "Dear {first_name},"\n  cymraeg: "Annwyl {first_name},"\n',
            "newsletter.yaml:{n2}:3: greeting.cymraeg: 'cymraeg' is not a language tag Babel knows (such as en, cy or pt-BR)",
        ),
        (
            'reason:\n  en: "You signed up."\n  "yes": "Fe wnaethoch chi gofrestru."\n',
            "newsletter.yaml:{n2}:3: reason.yes: 'yes' is not a language tag Babel knows",
        ),
        ("greeting_without_name:\n  en: Hello,\n  cy: ''\n", "newsletter.yaml:{n2}:7: greeting_without_name.cy: is empty"),
        ("greeting: 5\n", "newsletter.yaml:{n0}:11: greeting: input should be a valid string"),
        ("greeting: ''\n", "newsletter.yaml:{n0}:11: greeting: is empty"),
    ],
)
def test_words_per_language_are_named_at_their_line_when_wrong(project: Path, written: str, expected: str) -> None:
    """A key of words per language that is not a language tag (which no reader's language
    would ever match: the words would go unused, silently), or words left empty, is one
    problem at its line and field, exit 2, nothing built."""
    settings = project / "newsletter.yaml"
    key = written.split(":", 1)[0]
    kept = [line for line in settings.read_text(encoding="utf-8").splitlines() if not line.startswith(f"{key}:")]
    settings.write_text("\n".join(kept) + "\n" + written, encoding="utf-8")
    first = len(kept) + 1
    result = run_cli("build", "issues/2024-06-june-team-update.yaml", cwd=project)
    assert result.code == 2, result.output
    assert "1 problem found" in result.err
    assert expected.format(n0=first, n2=first + 2) in result.err
    assert "Traceback" not in result.output and not (project / "build").exists()


def _plain(path: Path) -> str:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return str(msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_dry_run_samples_and_test_sends_greet_in_the_readers_language(project: Path) -> None:
    _project(project)
    result = run_cli("send", ISSUE, "--dry-run", "--provider", "outbox", cwd=project)
    folder = project / "build" / "dry-run" / SLUG
    samples = {}
    for path in sorted(folder.glob("sample-*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        samples[msg["To"].addresses[0].addr_spec] = _plain(path)
    assert samples, result.output
    for to, text in samples.items():
        assert EXPECTED[to] in text.splitlines(), to
    assert '"__nl_greeting_html__":"Annwyl Amina,"' in (folder / "request-1.json").read_text(encoding="utf-8").replace(": ", ":")
    for who, greeting in (("amina.okafor@example.org", "Annwyl Amina,"), ("ben.hughes@example.org", "Dear Ben,")):
        shutil.rmtree(project / "outbox" / f"{SLUG}-test", ignore_errors=True)  # this send's message alone
        result = run_cli("send", ISSUE, "--test-to", "me@example.com", "--as", who, "--provider", "outbox", cwd=project)
        assert result.code == 0, result.output
        (sent,) = (project / "outbox" / f"{SLUG}-test").glob("*.eml")
        assert greeting in _plain(sent).splitlines(), who
