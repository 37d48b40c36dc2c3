"""``newsletter check``: one test per rule, each with a small issue that triggers it and
points at the YAML line and field to change; the worked example triggers no error."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from newsletter.checks import Finding, all_rules, run_checks
from newsletter.checks.contrast import invert, nearest_passing, ratio
from newsletter.project import open_issue
from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli

BASE = """\
title: Test issue
subject: A small test issue
preheader: A short summary of this small test issue, long enough for inboxes.
date: 2024-06-21
blocks:
  - type: heading
    text: News
  - type: text
    text: |
      First paragraph with [our website](https://www.coproductioncollective.co.uk/).

      Second paragraph.
"""
ISSUE = "issues/t.yaml"
# Gmail clips a message whose HTML is over 102 KB (stated here, not taken from the code,
# so that a wrong constant in the code cannot pass its own test); we warn from 90 KB.
GMAIL_LIMIT = 102 * 1024
WARN_FROM = 90 * 1024
# The example project's newsletter.yaml uses example.org addresses on purpose (see docs/editors-guide.md, "3. Check").
SETTINGS_ADDRESSES = {
    ("newsletter.yaml", "from.email"),
    ("newsletter.yaml", "reply_to.email"),
    ("newsletter.yaml", "contact_email"),
}


def line_of(text: str, snippet: str, nth: int = 1) -> int:
    """The 1-based line of the nth line of ``text`` holding ``snippet``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if snippet in line]
    return hits[nth - 1]


def check(project: Path, text: str, *, files: dict[str, str] | None = None, **kw: Any) -> list[Finding]:
    for name, content in (files or {}).items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(content, encoding="utf-8")
    (project / ISSUE).write_text(text, encoding="utf-8")
    proj, issue_file, rendered = open_issue(project / ISSUE)
    return run_checks(proj, issue_file, rendered, **kw)


def of(findings: list[Finding], rule: str) -> list[Finding]:
    assert rule in all_rules(), rule
    return [f for f in findings if f.rule == rule]


def only(findings: list[Finding], rule: str) -> Finding:
    found = of(findings, rule)
    assert len(found) == 1, "\n".join(map(str, findings))
    return found[0]


def extra(findings: list[Finding]) -> list[Finding]:
    """Findings other than the example settings' example.org addresses, the reminder that
    the web edition is not published (the copied project has no site/ folder) and that nobody
    approves the email (approval: none, the default)."""
    return [
        f for f in findings if (f.file, f.field) not in SETTINGS_ADDRESSES and f.rule not in ("web-not-published", "approval-off")
    ]


@pytest.fixture(autouse=True)
def _in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)  # paths in findings are shown relative to where the user is


def add_block(yaml_block: str, text: str = BASE) -> str:
    return text + yaml_block


# --- the base and the worked example ---------------------------------------------------


def test_the_small_base_issue_is_clean(project: Path) -> None:
    assert extra(check(project, BASE)) == []


def test_example_issue_has_no_errors_and_only_explained_warnings(project: Path) -> None:
    proj, issue_file, rendered = open_issue(project / EXAMPLE_ISSUE)
    findings = run_checks(proj, issue_file, rendered)
    assert [f for f in findings if f.severity == "error"] == []
    # the only warnings: the example.org placeholder addresses in newsletter.yaml, the web
    # edition not published yet, and nobody approving the email (docs/editors-guide.md, "3. Check")
    assert {(f.rule, f.file, f.field) for f in findings} == {
        ("example-domain", "newsletter.yaml", field) for _, field in SETTINGS_ADDRESSES
    } | {("web-not-published", "newsletter.yaml", "web_archive_url"), ("approval-off", EXAMPLE_ISSUE, "")}


def test_an_unpublished_web_edition_is_a_warning_until_published(project: Path) -> None:
    text = add_block("""\
  - type: events
    items:
      - title: Cuppa
        start: 2024-07-01 12:00
""")
    found = only(check(project, text), "web-not-published")
    assert (found.severity, found.file, found.field) == ("warning", "newsletter.yaml", "web_archive_url")
    assert found.message == (
        "the page and a calendar file the email links to are not in site/ yet: t.html, events/2024-07-01-cuppa.ics"
    )
    assert run_cli("publish", ISSUE, cwd=project).code == 0
    assert of(check(project, text), "web-not-published") == []
    (project / "site" / "events" / "2024-07-01-cuppa.ics").unlink()
    assert only(check(project, text), "web-not-published").message == (
        "a calendar file the email links to is not in site/ yet: events/2024-07-01-cuppa.ics"
    )
    (project / "site" / "t.html").unlink()
    assert only(check(project, text), "web-not-published").message.startswith(
        "the page and a calendar file the email links to are not"
    )
    (project / "site" / "events" / "2024-07-01-cuppa.ics").write_text("x")
    assert only(check(project, text), "web-not-published").message == ("the page the email links to is not in site/ yet: t.html")


def test_a_published_event_that_would_change_identity_is_a_warning(project: Path) -> None:
    text = add_block("""\
  - type: events
    items:
      - title: Cuppa
        start: 2024-07-01 12:00
""")
    check(project, text)
    assert run_cli("publish", ISSUE, cwd=project).code == 0
    assert of(check(project, text.replace("12:00", "13:00")), "event-identity-changed") == []  # a time is not an identity
    found = only(check(project, text.replace("2024-07-01", "2024-07-02")), "event-identity-changed")
    assert found.severity == "warning" and found.file == ISSUE
    assert "`id: 2024-07-01-cuppa`" in found.hint
    kept = text.replace("start: 2024-07-01", "id: 2024-07-01-cuppa\n        start: 2024-07-02")
    assert of(check(project, kept), "event-identity-changed") == []


def test_example_passes_on_the_command_line(project: Path) -> None:
    result = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 0, result.output
    assert "no errors, 5 warnings" in result.out
    assert "newsletter.yaml:6:10: from.email: the address news@example.org is at the reserved" in result.out


# --- errors ---------------------------------------------------------------------------


def test_image_alt_missing_in_markdown(project: Path) -> None:
    text = BASE + "      ![](https://www.coproductioncollective.co.uk/a.png)\n"
    f = only(check(project, text), "image-alt")
    assert (f.severity, f.file, f.line, f.field) == ("error", ISSUE, line_of(text, "![]"), "blocks[1].text.text")
    assert "a.png has empty alt text" in f.message


def test_image_alt_missing_from_a_template_override(project: Path) -> None:
    override = '<mj-raw><img src="{{ block.src }}" width="200"></mj-raw>\n'
    text = add_block("  - type: image\n    src: https://www.coproductioncollective.co.uk/b.png\n    alt: A bee\n")
    f = only(check(project, text, files={"templates/blocks/image.mjml.j2": override}), "image-alt")
    assert "has no alt attribute" in f.message
    assert (f.file, f.line, f.field) == (ISSUE, line_of(text, "b.png"), "blocks[2].image.src")


def test_image_alt_empty_is_fine_when_decorative(project: Path) -> None:
    block = "  - type: image\n    src: https://www.coproductioncollective.co.uk/c.png\n    alt: ''\n"
    assert of(check(project, add_block(block + "    decorative: true\n")), "image-alt") == []


def test_link_empty(project: Path) -> None:
    override = '<mj-text><a href="">{{ block.label }}</a></mj-text>\n'
    text = add_block(
        "  - type: button\n    label: Sign up to a Co-Pro Cuppa\n    url: https://www.coproductioncollective.co.uk/c\n"
    )
    f = only(check(project, text, files={"templates/blocks/button.mjml.j2": override}), "link-empty")
    assert (f.severity, f.file, f.line) == ("error", "templates/blocks/button.mjml.j2", 1)


def test_link_fragment(project: Path) -> None:
    override = '<mj-text><a href="#">{{ block.label }}</a></mj-text>\n'
    text = add_block(
        "  - type: button\n    label: Sign up to a Co-Pro Cuppa\n    url: https://www.coproductioncollective.co.uk/c\n"
    )
    f = only(check(project, text, files={"templates/blocks/button.mjml.j2": override}), "link-fragment")
    assert (f.file, f.line, f.column) == ("templates/blocks/button.mjml.j2", 1, 19)
    assert "goes to '#'" in f.message


@pytest.mark.parametrize("url", ["https://TK", "https://www.coproductioncollective.co.uk/TODO", "https://lorem-ipsum.co.uk/"])
def test_link_placeholder(project: Path, url: str) -> None:
    text = add_block(f"  - type: button\n    label: Sign up to a Co-Pro Cuppa\n    url: {url}\n")
    f = only(check(project, text), "link-placeholder")
    assert (f.severity, f.line, f.column, f.field) == ("error", line_of(text, url), 10, "blocks[2].button.url")


def test_link_placeholder_in_the_words(project: Path) -> None:
    text = BASE + "      See [TK](https://www.coproductioncollective.co.uk/news).\n"
    f = only(check(project, text), "link-placeholder")
    assert (f.line, f.field) == (line_of(text, "[TK]"), "blocks[1].text.text")


@pytest.mark.parametrize("href", ["news/june.html", "tel:+442071234567", "javascript:alert(1)"])
def test_link_scheme(project: Path, href: str) -> None:
    override = f'<mj-text><a href="{href}">{{{{ block.label }}}}</a></mj-text>\n'
    text = add_block(
        "  - type: button\n    label: Sign up to a Co-Pro Cuppa\n    url: https://www.coproductioncollective.co.uk/c\n"
    )
    f = only(check(project, text, files={"templates/blocks/button.mjml.j2": override}), "link-scheme")
    assert f.file == "templates/blocks/button.mjml.j2" and f.line == 1


FOOTER = (REPO / "newsletter/templates/footer.mjml.j2").read_text(encoding="utf-8")


def test_unsubscribe_link_missing(project: Path) -> None:
    footer = FOOTER.replace('<a href="{{ recipient.unsubscribe_url }}"', '<a href="{{ archive_url }}"')
    f = only(check(project, BASE, files={"templates/footer.mjml.j2": footer}), "unsubscribe-link")
    assert (f.severity, f.file) == ("error", "templates/footer.mjml.j2")
    assert "no per-recipient unsubscribe link" in f.message


def test_unsubscribe_link_hidden(project: Path) -> None:
    footer = FOOTER.replace(
        'style="color: {{ colours.muted }};">{{ _("Unsubscribe")', 'style="display: none;">{{ _("Unsubscribe")'
    )
    assert footer != FOOTER
    f = only(check(project, BASE, files={"templates/footer.mjml.j2": footer}), "unsubscribe-link")
    assert "hidden" in f.message
    assert (f.file, f.line) == ("templates/footer.mjml.j2", line_of(footer, "unsubscribe_url"))


def test_postal_address_missing_from_footer(project: Path) -> None:
    footer = FOOTER.replace("<br />{{ settings.postal_address }}", "")
    assert footer != FOOTER
    f = only(check(project, BASE, files={"templates/footer.mjml.j2": footer}), "postal-address")
    assert (f.severity, f.file) == ("error", "templates/footer.mjml.j2")


def test_postal_address_only_in_the_header_does_not_count(project: Path) -> None:
    footer = FOOTER.replace("<br />{{ settings.postal_address }}", "")
    header = (REPO / "newsletter/templates/header.mjml.j2").read_text(encoding="utf-8")
    words = '{{ _("View this email in your browser") }}</a>'
    assert words in header
    header = header.replace(words, words + " {{ settings.postal_address }}")
    files = {"templates/footer.mjml.j2": footer, "templates/header.mjml.j2": header}
    assert len(of(check(project, BASE, files=files), "postal-address")) == 1


PARAGRAPH = "Co-production brings people together to share power and decide things as equals. " * 8


def _with_paragraphs(count: int) -> str:
    return BASE + "  - type: text\n    text: |\n" + "".join(f"      {PARAGRAPH}\n\n" for _ in range(count))


def _size(project: Path, text: str) -> int:
    (project / ISSUE).write_text(text, encoding="utf-8")
    return open_issue(project / ISSUE)[2].size_bytes


def sized(project: Path, target: int) -> str:
    """BASE plus a long text block that brings the rendered HTML to about ``target`` bytes."""
    one, eleven = _size(project, _with_paragraphs(1)), _size(project, _with_paragraphs(11))
    per = (eleven - one) / 10
    return _with_paragraphs(1 + round((target - one) / per))


def test_size_over_gmail_clipping(project: Path) -> None:
    findings = check(project, sized(project, GMAIL_LIMIT + 3000))
    f = only(findings, "size-clipped")
    assert f.severity == "error" and "Gmail clips messages over 102 KB" in f.message
    assert (f.file, f.field) == (ISSUE, "blocks")
    assert of(findings, "size-near-limit") == []


def test_size_near_the_limit(project: Path) -> None:
    findings = check(project, sized(project, WARN_FROM + 4000))
    assert only(findings, "size-near-limit").severity == "warning"
    assert of(findings, "size-clipped") == []


def test_size_is_measured_after_personalisation(project: Path) -> None:
    """Just under the limit as rendered; over it for the subscriber with a very long name."""
    (project / ISSUE).write_text(sized(project, GMAIL_LIMIT - 2000), encoding="utf-8")
    proj, issue_file, rendered = open_issue(project / ISSUE)
    assert WARN_FROM < rendered.size_bytes < GMAIL_LIMIT
    assert of(run_checks(proj, issue_file, rendered), "size-clipped") == []
    with (project / "subscribers.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"long@coproductioncollective.co.uk,{'Maximiliana' * 500},X,subscribed,community,2024-01-01,web\n")
    assert len(of(run_checks(proj, issue_file, rendered), "size-clipped")) == 1


def test_subject_empty(project: Path) -> None:
    """The loader refuses an empty subject (exit 2); the rule guards what callers pass in."""
    (project / ISSUE).write_text(BASE.replace("subject: A small test issue", "subject: ''"), encoding="utf-8")
    refused = run_cli("check", ISSUE, cwd=project)
    assert refused.code == 2 and "issues/t.yaml:2:10: subject:" in refused.err
    (project / ISSUE).write_text(BASE, encoding="utf-8")
    proj, issue_file, rendered = open_issue(project / ISSUE)
    f = only(run_checks(proj, issue_file, dataclasses.replace(rendered, subject=" ")), "subject-empty")
    assert (f.severity, f.file, f.line, f.field) == ("error", ISSUE, 2, "subject")


def test_subject_too_long(project: Path) -> None:
    (project / ISSUE).write_text(BASE, encoding="utf-8")
    proj, issue_file, rendered = open_issue(project / ISSUE)
    findings = run_checks(proj, issue_file, dataclasses.replace(rendered, subject="Long " * 200))
    assert "1000 characters" in only(findings, "subject-too-long").message
    assert of(findings, "subject-long") == []  # the error says it already


def test_header_newline_from_the_subscriber_list(project: Path) -> None:
    (project / "subscribers.csv").write_text(
        "email,first_name,last_name,status,tags\n"
        "ok@coproductioncollective.co.uk,Ann,Lee,subscribed,\n"
        'bad@coproductioncollective.co.uk,"Ann\nBcc: everyone@coproductioncollective.co.uk",Lee,subscribed,\n'
        'gone@coproductioncollective.co.uk,"Bo\r\nb",Lee,unsubscribed,\n',
        encoding="utf-8",
    )
    # The list reader puts every name on one line, so a line break in a subscriber's
    # name can never reach the To header: no finding, and the name is kept readable.
    (project / ISSUE).write_text(BASE, encoding="utf-8")
    proj, issue_file, rendered = open_issue(project / ISSUE)
    findings = run_checks(proj, issue_file, rendered, list_path=project / "subscribers.csv")
    assert not [f for f in findings if f.rule == "header-newline"]
    from newsletter.audience import eligible

    names = [s.first_name for s in eligible(project / "subscribers.csv")]
    assert names == ["Ann", "Ann Bcc: everyone@coproductioncollective.co.uk"]


def test_header_newline_in_the_subject(project: Path) -> None:
    (project / ISSUE).write_text(BASE, encoding="utf-8")
    proj, issue_file, rendered = open_issue(project / ISSUE)
    changed = dataclasses.replace(rendered, subject="Hello\r\nBcc: all@coproductioncollective.co.uk")
    f = only(run_checks(proj, issue_file, changed), "header-newline")
    assert (f.file, f.field, f.line) == (ISSUE, "subject", 2)


@pytest.mark.parametrize("leftover", ["{{ first_name }}", "{% if member %}", "*|FNAME|*"])
def test_template_leftover(project: Path, leftover: str) -> None:
    text = BASE + f"      Dear {leftover}, welcome.\n"
    f = only(check(project, text), "template-leftover")
    line = line_of(text, leftover)
    column = text.splitlines()[line - 1].index(leftover.strip("*")) + 1
    assert (f.severity, f.line, f.column, f.field) == ("error", line, column, "blocks[1].text.text")


def test_token_malformed(project: Path) -> None:
    text = BASE.replace("text: News", "text: News for __nl_First_Name_html__")
    f = only(check(project, text), "token-unfilled")
    assert (f.line, f.column, f.field) == (7, 20, "blocks[0].heading.text")


def test_token_without_a_column_in_the_list(project: Path) -> None:
    override = "<mj-text>\n  <p>{{ block.text | md_inline }} ({{ recipient.company }})</p>\n</mj-text>\n"
    text = add_block("  - type: quote\n    text: Small conversations\n    by: Siobhan\n")
    files = {"templates/blocks/quote.mjml.j2": override}
    f = only(check(project, text, files=files), "token-unfilled")
    assert (f.file, f.line) == ("templates/blocks/quote.mjml.j2", 2)
    assert "'company' has no column in subscribers.csv" in f.message
    # with the column, the token is filled with the subscribers' values
    csv = (project / "subscribers.csv").read_text(encoding="utf-8").splitlines()
    rows = [csv[0] + ",company"] + [row + ",Acme Community Trust" for row in csv[1:]]
    (project / "subscribers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert of(check(project, text, files=files), "token-unfilled") == []


def test_event_before_the_issue_date(project: Path) -> None:
    text = add_block(
        "  - type: events\n    items:\n"
        "      - title: Old cuppa\n        start: 2024-06-20 23:30\n"
        "      - title: Same-day cuppa\n        start: 2024-06-21 09:00\n"
    )
    f = only(check(project, text), "event-before-date")
    assert (f.severity, f.line, f.field) == ("error", line_of(text, "2024-06-20"), "blocks[2].events.items[0].start")
    assert "Thursday 20 June 2024, 23:30 (UK time)" in f.message


# --- warnings -------------------------------------------------------------------------


def test_subject_long(project: Path) -> None:
    text = BASE.replace("A small test issue", "A small test issue with a subject line that goes on and on and on")
    f = only(check(project, text), "subject-long")
    assert (f.severity, f.line, f.field) == ("warning", 2, "subject")


def test_subject_capitals(project: Path) -> None:
    f = only(check(project, BASE.replace("A small test issue", "'URGENT: OUR JUNE NEWS'")), "subject-capitals")
    assert (f.severity, f.line) == ("warning", 2)
    assert of(check(project, BASE.replace("A small test issue", "News from UCL and LACES")), "subject-capitals") == []


def test_preheader_missing(project: Path) -> None:
    text = "\n".join(line for line in BASE.splitlines() if not line.startswith("preheader")) + "\n"
    assert only(check(project, text), "preheader-missing").field == "preheader"


@pytest.mark.parametrize("preheader", ["Too short", "Far too long. " * 11])
def test_preheader_length(project: Path, preheader: str) -> None:
    text = BASE.replace("A short summary of this small test issue, long enough for inboxes.", preheader.strip())
    f = only(check(project, text), "preheader-length")
    assert (f.line, f.field) == (3, "preheader")


def test_contrast_of_theme_colours(project: Path) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text().replace('muted: "#555555"', 'muted: "#999999"'), encoding="utf-8")
    findings = of(check(project, BASE), "contrast")
    assert {(f.file, f.field) for f in findings} == {("newsletter.yaml", "colours.muted")}
    assert findings[0].line == line_of(settings.read_text(), "muted:")
    assert "below the 4.5:1 WCAG AA" in findings[0].message
    suggestion = findings[0].hint.split('"')[1]
    assert ratio(suggestion, "#ffffff") >= 4.5 and ratio(suggestion, "#f3f1f7") >= 4.5


def test_contrast_large_text_needs_three_to_one(project: Path) -> None:
    settings = project / "newsletter.yaml"
    text = (
        settings.read_text()
        .replace('brand: "#4b2c82"', 'brand: "#8a8a8a"')
        .replace('button_text: "#ffffff"', 'button_text: "#000000"')
    )
    settings.write_text(text, encoding="utf-8")
    # #8a8a8a on white is 3.45:1: enough for headings (3:1), not for links (link stays #4b2c82)
    assert of(check(project, BASE), "contrast") == []
    settings.write_text(text.replace('brand: "#8a8a8a"', 'brand: "#aaaaaa"'), encoding="utf-8")
    findings = of(check(project, BASE), "contrast")
    # 2.3:1 as designed, and #555555 on black (2.8:1) when an app inverts the colours
    assert [f.field for f in findings] == ["colours.brand", "colours.brand"]
    assert "under full inversion" in findings[1].message


def test_contrast_in_dark_mode(project: Path) -> None:
    settings = project / "newsletter.yaml"
    text = settings.read_text() + 'dark_colours:\n  link: "#4b2c82"\n'
    settings.write_text(text, encoding="utf-8")
    f = only(check(project, BASE), "contrast")
    assert (f.file, f.field, f.line) == ("newsletter.yaml", "dark_colours.link", line_of(text, 'link: "#4b2c82"', 2))
    assert "in dark mode" in f.message and "#1e1e1e" in f.message
    suggestion = f.hint.split('"')[1]
    assert ratio(suggestion, "#1e1e1e") >= 4.5


def test_contrast_under_full_inversion(project: Path) -> None:
    """Dark text on a magenta band passes as designed (4.64:1) but inverted it is black on
    green-black: the check measures the colours a full inversion makes."""
    settings = project / "newsletter.yaml"
    text = (
        settings.read_text()
        .replace('brand: "#4b2c82"', 'brand: "#ff00cc"')
        .replace('button_text: "#ffffff"', 'button_text: "#222222"')
    )
    settings.write_text(text, encoding="utf-8")
    assert ratio("#222222", "#ff00cc") >= 4.5
    f = only(check(project, BASE), "contrast")
    assert f.field == "colours.button_text" and "under full inversion" in f.message
    assert "#dddddd on #00ff33" in f.message
    suggestion = f.hint.split('"')[1]  # a colour to write, that passes once inverted
    assert ratio(invert(suggestion), invert("#ff00cc")) >= 4.5


def test_example_theme_passes_in_all_three_modes(project: Path) -> None:
    assert of(check(project, BASE), "contrast") == []


def test_wcag_ratio_arithmetic() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    better = nearest_passing("#999999", "#ffffff", 4.5)
    assert better is not None and ratio(better, "#ffffff") >= 4.5
    assert ratio(better, "#ffffff") < 4.7  # the nearest, not just any dark grey


def test_missing_lang(project: Path) -> None:
    base = (REPO / "newsletter/templates/base.mjml.j2").read_text(encoding="utf-8")
    override = re.sub(r"<mjml lang=[^>]*>", "<mjml>", base, count=1)
    assert override != base
    f = only(check(project, BASE, files={"templates/base.mjml.j2": override}), "html-lang")
    assert (f.severity, f.file) == ("warning", "templates/base.mjml.j2")


def test_headings_out_of_order(project: Path) -> None:
    text = BASE + "\n      #### Deep heading\n"
    f = only(check(project, text), "heading-order")
    assert (f.line, f.column, f.field) == (line_of(text, "####"), 7, "blocks[1].text.text")
    assert "h4 after an h2" in f.message


def test_events_title_straight_after_the_title_skips_a_level(project: Path) -> None:
    text = BASE.split("blocks:")[0] + (
        "blocks:\n  - type: events\n    title: Coming up\n    items:\n      - title: Cuppa\n        start: 2024-07-01 12:00\n"
    )
    f = only(check(project, text), "heading-order")
    assert (f.line, f.field) == (line_of(text, "Coming up"), "blocks[0].events.title")


@pytest.mark.parametrize("words", ["click here", "Read more", "here"])
def test_link_text_vague(project: Path, words: str) -> None:
    text = BASE + f"      For the report [{words}](https://www.coproductioncollective.co.uk/report).\n"
    f = only(check(project, text), "link-text")
    assert (f.severity, f.line, f.field) == ("warning", line_of(text, words), "blocks[1].text.text")


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2066"])
def test_link_words_with_hidden_characters(project: Path, char: str) -> None:
    text = BASE + f"      See [our{char} report](https://www.coproductioncollective.co.uk/report).\n"
    f = only(check(project, text), "link-hidden-characters")
    assert (f.severity, f.line, f.field) == ("warning", line_of(text, "report]"), "blocks[1].text.text")
    assert f"U+{ord(char):04X}" in f.message


def test_emoji_joined_by_zero_width_joiner_is_no_hidden_character(project: Path) -> None:
    text = BASE + "      See [our \U0001f469\u200d\U0001f4bb team](https://www.coproductioncollective.co.uk/team).\n"
    assert of(check(project, text), "link-hidden-characters") == []


def test_link_text_points_at_the_link_not_a_field_with_the_same_words(project: Path) -> None:
    """'here' is also in the title: the finding names the link's own line, not the title's."""
    text = BASE.replace("title: Test issue", "title: Here and there") + (
        "      More words on a line of their own.\n"
        "      For the report [here](https://www.coproductioncollective.co.uk/report).\n"
    )
    f = only(check(project, text), "link-text")
    assert (f.line, f.column, f.field) == (line_of(text, "[here]"), 22, "blocks[1].text.text")


def test_link_text_spread_over_lines_points_at_its_address(project: Path) -> None:
    text = BASE + "      For the report [click\n      here](https://www.coproductioncollective.co.uk/report).\n"
    f = only(check(project, text), "link-text")
    assert (f.line, f.field) == (line_of(text, "here]("), "blocks[1].text.text")


def test_example_domain_link(project: Path) -> None:
    text = add_block("  - type: links\n    items:\n      - title: Our report\n        url: https://www.example.com/report\n")
    found = [f for f in of(check(project, text), "example-domain") if f.file == ISSUE]
    assert [(f.line, f.field) for f in found] == [(line_of(text, "example.com"), "blocks[2].links.items[0].url")]


def test_example_domain_address_in_text(project: Path) -> None:
    text = BASE + "      Write to news@example.net with your ideas.\n"
    found = [f for f in of(check(project, text), "example-domain") if f.file == ISSUE]
    assert [(f.line, f.field) for f in found] == [(line_of(text, "example.net"), "blocks[1].text.text")]


def test_image_over_http(project: Path) -> None:
    text = add_block(
        "  - type: image\n    src: http://www.coproductioncollective.co.uk/p.jpg\n    alt: A photo\n    width: 300\n"
    )
    f = only(check(project, text), "image-http")
    assert (f.line, f.field) == (line_of(text, "http://"), "blocks[2].image.src")


def test_image_without_width(project: Path) -> None:
    text = BASE + "      ![A group photo](https://www.coproductioncollective.co.uk/group.jpg)\n"
    f = only(check(project, text), "image-width")
    assert (f.line, f.column) == (line_of(text, "group.jpg"), 24)
    assert "image block with width" in f.hint


def test_too_many_images(project: Path) -> None:
    images = "".join(
        f"  - type: image\n    src: https://www.coproductioncollective.co.uk/{i}.jpg\n    alt: Photo {i}\n" for i in range(6)
    )
    f = only(check(project, add_block(images)), "image-count")
    assert "7 images (more than 6)" in f.message  # six photos and the logo
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "check:\n  max_images: 8\n", encoding="utf-8")
    assert of(check(project, add_block(images)), "image-count") == []


# --- the command: text and JSON, exit codes, bad input ---------------------------------


def test_command_reports_errors_first_and_exits_1(project: Path) -> None:
    text = BASE + "      See [click here](https://TK).\n"
    (project / ISSUE).write_text(text, encoding="utf-8")
    result = run_cli("check", ISSUE, cwd=project)
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    out = result.out
    assert out.index("1 error") < out.index("6 warnings")
    line = line_of(text, "TK")
    assert f"issues/t.yaml:{line}:24: block 2 (text), text: the link 'click here' is a placeholder" in out
    assert "hint: replace it with the real address before sending" in out
    assert "error: 1 check error in issues/t.yaml" in result.err


def test_json_output_has_a_stable_shape(project: Path) -> None:
    text = BASE + "      See [click here](https://TK).\n"
    (project / ISSUE).write_text(text, encoding="utf-8")
    first = run_cli("check", ISSUE, "--format", "json", cwd=project)
    second = run_cli("check", ISSUE, "--format", "json", cwd=project)
    assert first.code == 1 and first.out == second.out  # deterministic
    doc = json.loads(first.out)
    assert set(doc) == {"version", "issue", "personalised_for", "errors", "warnings", "findings"}
    assert (doc["version"], doc["issue"], doc["errors"], doc["warnings"]) == (1, ISSUE, 1, 6)
    for item in doc["findings"]:
        assert list(item) == ["rule", "severity", "message", "file", "line", "column", "field", "hint"]
    top = doc["findings"][0]
    assert (top["rule"], top["severity"], top["file"], top["line"]) == (
        "link-placeholder",
        "error",
        ISSUE,
        line_of(text, "TK"),
    )


def test_bad_issue_is_input_error_not_a_check(project: Path) -> None:
    (project / ISSUE).write_text(BASE.replace("title:", "titel:"), encoding="utf-8")
    result = run_cli("check", ISSUE, "--format", "json", cwd=project)
    assert result.code == 2 and "Traceback" not in result.output
    assert "issues/t.yaml:1:1: titel: unknown key 'titel'" in result.err


@pytest.mark.parametrize(
    "content, expected",
    [
        ("name,first\nx,y\n", "subscribers.csv:1: no email column in the header"),
        (b"email\n\xff\xfe\n", "subscribers.csv:2: not UTF-8 text"),
        (
            b'email,first_name\nann@coproductioncollective.co.uk,"Ann\n',
            "subscribers.csv:2: a quoted value is not closed before the end of the file",
        ),
    ],
)
def test_bad_subscriber_list_is_input_error(project: Path, content: str | bytes, expected: str) -> None:
    path = project / "subscribers.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 2 and "Traceback" not in result.output
    assert expected in result.err


def test_list_option_and_missing_list(project: Path) -> None:
    other = project / "other.csv"
    shutil.copy(project / "subscribers.csv", other)
    (project / "subscribers.csv").unlink()
    missing = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert missing.code == 0 and "no subscriber list at subscribers.csv: a sample recipient" in missing.out
    given = run_cli("check", EXAMPLE_ISSUE, "--list", "other.csv", cwd=project)
    assert given.code == 0 and "5 eligible subscriber(s) in other.csv" in given.out
    wrong = run_cli("check", EXAMPLE_ISSUE, "--list", "nope.csv", cwd=project)
    assert wrong.code == 2 and "'nope.csv' does not exist" in wrong.err and "Traceback" not in wrong.err


def test_personalised_with_the_longest_eligible_values(project: Path) -> None:
    from newsletter.checks.context import build_context

    with (project / "subscribers.csv").open("a", encoding="utf-8") as fh:
        fh.write("z@coproductioncollective.co.uk,Bartholomew-Alexander,Q,unsubscribed,community,2024-01-01,web\n")
        fh.write("y@coproductioncollective.co.uk,Christabel-Anne,Q,subscribed,partners,2024-01-01,web\n")
    (project / ISSUE).write_text(BASE + "audience:\n  tags: [community]\n", encoding="utf-8")
    ctx = build_context(*open_issue(project / ISSUE))
    # the unsubscribed row and the row outside the audience are not considered
    assert ctx.sample.values["first_name"] == "Eilidh"
    assert ctx.sample.values["email"] == "eilidh.campbell@example.org"
    assert "Dear Eilidh," in ctx.html


def test_every_rule_is_documented_in_the_guide() -> None:
    guide = (REPO / "docs" / "editors-guide.md").read_text(encoding="utf-8")
    section = re.split(r"^## (?:\d+\. )?Check$", guide, maxsplit=1, flags=re.M)[1].split("\n## ", 1)[0]
    for rule_id in all_rules():
        assert f"`{rule_id}`" in section, f"the editor's guide's Check section (docs/editors-guide.md) misses {rule_id}"


def test_every_rule_has_a_test() -> None:
    """Each rule id is asserted on by a test in a tests/test_check*.py, or (the unsubscribe
    mode's rules, issue 12) in test_feedback_unsubscribe_mode."""
    here = Path(__file__).parent
    paths = [*sorted(here.glob("test_check*.py")), here / "test_feedback_unsubscribe_mode.py"]
    tests = "".join(path.read_text() for path in paths)
    missing = [r for r in all_rules() if f'"{r}"' not in tests]
    assert missing == []


def test_public_api_is_pinned() -> None:
    """The preview and send commands call run_checks: its name and signature stay put."""
    import inspect

    import newsletter.checks as checks

    assert sorted(checks.__all__) == [
        "Finding",
        "Rule",
        "Severity",
        "Where",
        "all_rules",
        "findings_for",
        "in_every_language",
        "run_checks",
    ]
    params = inspect.signature(checks.run_checks).parameters
    assert list(params) == ["project", "issue_file", "rendered", "list_path", "online"]
    assert params["list_path"].kind is inspect.Parameter.KEYWORD_ONLY and params["list_path"].default is None
    assert params["online"].kind is inspect.Parameter.KEYWORD_ONLY and params["online"].default is False


def test_check_and_subscribers_check_warn_of_addresses_sendgrid_would_refuse(project: Path) -> None:
    with (project / "subscribers.csv").open("a", encoding="utf-8") as fh:
        fh.write("jöe@bücher.de,Jö,E,subscribed,,,\n")
    line = len((project / "subscribers.csv").read_text(encoding="utf-8").splitlines())
    listed = run_cli("subscribers", "check", cwd=project)
    assert listed.code == 0 and f"subscribers.csv:{line}: email: 'jöe@bücher.de': non-ASCII" in listed.output
    checked = run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=project)
    findings = [f for f in json.loads(checked.out)["findings"] if f["rule"] == "address-smtputf8"]
    assert [(f["severity"], f["file"], f["line"]) for f in findings] == [("warning", "subscribers.csv", line)]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("blocks[1].text.text", "block 2 (text), text"),
        ("blocks[2].image.alt", "block 3 (image), alt"),
        ("blocks[1].events.items[0].start", "block 2 (events), item 1, start"),
        ("blocks[0]", "block 1"),
        ("subject", "subject"),
        ("colours.link", "colours.link"),
    ],
)
def test_findings_name_blocks_as_people_count_them(path: str, words: str) -> None:
    from newsletter.checks.finding import people_field

    assert people_field(path) == words
    finding = Finding("link-empty", "error", "a link with no address", "issues/x.yaml", 3, 5, path, "")
    assert str(finding) == f"issues/x.yaml:3:5: {words}: a link with no address"
    assert finding.as_dict()["field"] == path  # scripts keep the path
