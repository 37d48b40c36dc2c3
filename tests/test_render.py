"""The render pipeline: the worked example, both inliners, tokens, escaping, the sandbox,
template overrides, MJML errors and determinism."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import mjml
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render import pipeline
from newsletter.render.personalize import TOKEN_RE, Context, Greeting, escape, recipient_values, substituter, token
from newsletter.render.pipeline import Rendered
from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.html_kit import document, elements, xpath

CONTEXTS: tuple[Context, ...] = get_args(Context)

NASTY = '<script>alert(1)</script> & "Sons"'


def _render(root: Path, issue: str = EXAMPLE_ISSUE) -> tuple[Project, IssueFile, Rendered]:
    project = Project.find(root / issue)
    issue_file = project.load(root / issue)
    return project, issue_file, project.render(issue_file)


def _values(project: Project, **kw: str) -> dict[str, str]:
    base = dict(
        email="amina.okafor@example.org",
        first_name="Amina",
        unsubscribe_url="https://example.org/u?token=abc&x=1",
        fallback_first_name=project.settings.fallback_first_name,
        greeting=Greeting.of(project.settings),
    )
    base.update(kw)
    return recipient_values(**base)  # type: ignore[arg-type]


# --- the worked example ------------------------------------------------------------

SECTIONS = [
    "London Alliance for the Co-production of Evidence Synthesis (also known as LACES)",
    "Darzi Fellowship Programme",
    "Measuring Success in Co-Production Programme",
    "Navigating Anti-Racism and Co-production Project",
    "What else have we been up to:",
    "Coming up",
    "Get involved",
    "Co-Pro Cuppas",
    "Other news you might be interested in",
]
CUPPAS = [
    "Monday 1 July 2024, 12:00 (UK time)",
    "Tuesday 6 August 2024, 15:00 (UK time)",
    "Friday 6 September 2024, 14:00 (UK time)",
]


def test_example_reproduces_the_seed(project: Path) -> None:
    p, _, r = _render(project)
    doc = document(r.html)
    headings = [h.text_content().strip() for h in elements(doc, "h2", "h3")]
    for section in SECTIONS:
        assert section in headings, section
        flat = " ".join(r.text.split())  # a long heading is wrapped
        assert section.upper() in flat or section in flat
    visible = " ".join(doc.text_content().split())
    text = " ".join(r.text.split())
    for needle in [
        "big ideas come out of small conversations",
        "Siobhan",
        "What co-production means to you",
        "Nicc gave a talk to UCL Institute for Healthcare Engineering fellows",
        "Cody Engel from Unsplash",
        *CUPPAS,
    ]:
        assert needle in visible, needle
        assert needle in text, needle
    assert len(xpath(doc, '//a[text()="Sign up"]')) == 3
    contact = f"mailto:{p.settings.contact_email}"
    assert len(xpath(doc, f'//a[@href="{contact}"]')) == 2
    hero = xpath(doc, "//img[contains(@alt, 'Conversations')]")
    assert hero and (hero[0].get("src") or "").startswith("https://")


def test_text_part_writes_links_as_text_and_url(project: Path) -> None:
    _, _, r = _render(project)
    flat = " ".join(r.text.split())
    assert "this blog (https://www.coproductioncollective.co.uk/news/meaningful-conversations)" in flat
    assert "* What being part of Co-Production Collective means to you" in r.text
    assert "  Sign up: https://www.eventbrite.co.uk/" in r.text
    assert "<" not in r.text.replace("<https", "")  # no markup in the text part


# --- inliners -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["css-inline", "premailer"])
def test_inliners_keep_what_email_clients_need(project: Path, engine: str) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("inliner: css-inline", f"inliner: {engine}"),
        encoding="utf-8",
    )
    p, issue_file, r = _render(project)
    assert p.settings.inliner == engine
    raw = mjml.mjml2html(pipeline.render_mjml(issue_file, p.settings, p.root), fonts={})
    assert r.html.startswith("<!doctype html>")
    assert r.html.count("@media") == raw.count("@media") >= 2
    assert r.html.count("<!--[if mso") == raw.count("<!--[if mso") > 0
    assert r.html.count("<![endif]-->") == raw.count("<![endif]-->")
    assert r.html.count("!important") >= raw.count("!important") > 0
    assert TOKEN_RE.findall(r.html) == TOKEN_RE.findall(raw) != []
    doc = document(r.html)
    h1 = xpath(doc, "//h1")[0]
    assert "color:" in h1.get("style", "").replace(" ", ""), "the CSS was inlined"
    html, _ = r.fill(_values(p))
    assert not TOKEN_RE.search(html)


# --- tokens and escaping ----------------------------------------------------------------


def test_tokens_filled_with_context_correct_escaping(project: Path) -> None:
    p, _, r = _render(project)
    html, text = r.fill(_values(p, first_name=NASTY))
    assert "<script>" not in html
    assert "Dear &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Sons&quot;," in html
    doc = document(html)
    assert not doc.xpath("//script")
    assert f"Dear {NASTY}," in text
    # the unsubscribe URL is a whole URL: attribute-escaped in HTML, raw in text
    assert 'href="https://example.org/u?token=abc&amp;x=1"' in html
    assert "Unsubscribe:\nhttps://example.org/u?token=abc&x=1\n" in text  # a URL line of its own
    assert not TOKEN_RE.search(html) and not TOKEN_RE.search(text)


def test_missing_first_name_falls_back(project: Path) -> None:
    p, _, r = _render(project)
    html, text = r.fill(_values(p, first_name="  "))
    assert ">Hello,</p>" in html and "\nHello,\n" in text  # never "Dear friend": SpamAssassin scores it
    assert "friend" not in html and "friend" not in text


def test_the_greetings_are_settings(project: Path) -> None:
    settings_file = project / "newsletter.yaml"
    text = "".join(line for line in settings_file.read_text().splitlines(True) if not line.startswith("greeting"))
    settings_file.write_text(text + 'greeting: "Hi {first_name}!"\ngreeting_without_name: "Hi there!"\n')
    p, _, r = _render(project)
    html, text = r.fill(_values(p, first_name="Amina"))
    assert ">Hi Amina!</p>" in html and "\nHi Amina!\n" in text
    html, text = r.fill(_values(p, first_name=""))
    assert ">Hi there!</p>" in html and "\nHi there!\n" in text


def test_values_in_links_are_url_encoded(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "footer.mjml.j2").write_text(
        "<mj-section><mj-column><mj-text>{{ settings.postal_address }} "
        '<a href="https://example.org/prefs?email={{ recipient.url.email }}">Preferences</a> '
        '<a href="{{ recipient.unsubscribe_url }}">Unsubscribe</a>'
        "</mj-text></mj-column></mj-section>\n",
        encoding="utf-8",
    )
    p, _, r = _render(project)
    html, _ = r.fill(_values(p, email='a+b&c"<x>@example.org'))
    assert 'href="https://example.org/prefs?email=a%2Bb%26c%22%3Cx%3E%40example.org"' in html
    subs = substituter(r.tokens)(_values(p, email="a+b@example.org"))
    assert subs["__nl_email_url__"] == "a%2Bb%40example.org"


def test_issue_text_cannot_inject_markup(project: Path) -> None:
    issue = project / "issues" / "2024-06-june-team-update.yaml"
    text = issue.read_text(encoding="utf-8")
    text = text.replace(
        'title: "June Team Update: Building on meaningful conversations"',
        'title: "June <b>bold</b> & <img src=x onerror=alert(1)>"',
    ).replace(
        "    text: Darzi Fellowship Programme",
        "    text: Darzi <script>alert(1)</script>",
    )
    text = text.replace(
        "      The Darzi Fellowship Programme is a leadership",
        "      <iframe src=https://evil.example></iframe> The Darzi Fellowship Programme is a leadership",
    )
    issue.write_text(text, encoding="utf-8")
    _, _, r = _render(project)
    doc = document(r.html)
    assert not doc.xpath("//script | //iframe | //img[@onerror] | //h1/b")
    assert "June &lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in r.html
    assert "&lt;iframe src=https://evil.example&gt;&lt;/iframe&gt;" in r.html


# --- templates: overrides, sandbox, strictness, MJML errors ------------------------


def _override(project: Path, name: str, text: str) -> CliResult:
    folder = project / "templates" / Path(name).parent
    folder.mkdir(parents=True, exist_ok=True)
    (project / "templates" / name).write_text(text, encoding="utf-8")
    return run_cli("build", EXAMPLE_ISSUE, cwd=project)


def test_user_override_replaces_a_partial(project: Path) -> None:
    result = _override(
        project,
        "blocks/divider.mjml.j2",
        '<mj-divider border-color="#ff00aa" border-width="3px" />\n',
    )
    assert result.code == 0, result.output
    html = (project / "build" / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    assert "#ff00aa" in html


def test_sandbox_refuses_python_internals(project: Path) -> None:
    result = _override(
        project,
        "blocks/divider.mjml.j2",
        "<mj-text>{{ ''.__class__.__mro__[1].__subclasses__() }}</mj-text>\n",
    )
    assert result.code == 2
    assert "templates/blocks/divider.mjml.j2:1: " in result.err
    assert "not allowed in a template" in result.err
    assert "Traceback" not in result.output
    assert "subclasses" not in result.out
    assert not (project / "build").exists()


def test_sandbox_refuses_changing_the_model(project: Path) -> None:
    result = _override(
        project,
        "blocks/divider.mjml.j2",
        "{% set _ = issue.blocks.append(1) %}<mj-divider />\n",
    )
    assert result.code == 2
    assert "not allowed in a template" in result.err


def test_undefined_variable_is_an_error(project: Path) -> None:
    result = _override(project, "blocks/divider.mjml.j2", "\n\n<mj-text>{{ issue.sponsor }}</mj-text>\n")
    assert result.code == 2
    assert "templates/blocks/divider.mjml.j2:3: " in result.err
    assert "sponsor" in result.err


def test_template_syntax_error_names_file_and_line(project: Path) -> None:
    result = _override(project, "blocks/divider.mjml.j2", "<mj-divider />\n{% if %}\n")
    assert result.code == 2
    assert "templates/blocks/divider.mjml.j2:2: " in result.err
    assert "Traceback" not in result.output


def test_mjml_errors_are_errors(project: Path) -> None:
    result = _override(project, "blocks/divider.mjml.j2", "<mj-dividr />\n")
    assert result.code == 2
    assert "unknown MJML element <mj-dividr>" in result.err
    result = _override(project, "blocks/divider.mjml.j2", "<mj-divider>\n")
    assert result.code == 2
    assert "MJML error" in result.err
    assert not (project / "build").exists()


# --- determinism and the command ----------------------------------------------------


def test_same_input_gives_byte_identical_output(project: Path) -> None:
    first = run_cli("build", EXAMPLE_ISSUE, "-o", "one", cwd=project)
    second = run_cli("build", EXAMPLE_ISSUE, "-o", "two", cwd=project)
    assert first.code == second.code == 0
    for suffix in ("html", "txt"):
        a = (project / "one" / f"2024-06-june-team-update.{suffix}").read_bytes()
        b = (project / "two" / f"2024-06-june-team-update.{suffix}").read_bytes()
        assert a == b and len(a) > 1000


def test_build_prints_a_summary(project: Path) -> None:
    result = run_cli("build", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 0, result.output
    size_kb = (project / "build" / "2024-06-june-team-update.html").stat().st_size / 1024
    assert f"{size_kb:.1f} KB" in result.out
    links = re.search(r"links\s+(\d+)\s+images\s+(\d+)", result.out)
    assert links is not None
    html = (project / "build" / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    doc = document(html)
    assert int(links.group(1)) == len(xpath(doc, "//a[@href]"))
    assert int(links.group(2)) == len(xpath(doc, "//img"))
    assert "greeting, unsubscribe_url" in result.out


def test_events_in_their_own_time_zone(project: Path) -> None:
    """An event elsewhere is written out in its own zone; a written offset is kept."""
    issue = project / EXAMPLE_ISSUE
    text = issue.read_text(encoding="utf-8")
    text = text.replace(
        "      - title: Co-Pro Cuppa\n        start: 2024-08-06 15:00\n",
        "      - title: Co-Pro Cuppa\n        timezone: Europe/Paris\n        start: 2024-08-06 15:00\n"
        "        end: 2024-08-06 16:30\n",
    ).replace("start: 2024-09-06 14:00", "start: 2024-09-06 14:00-04:00")
    issue.write_text(text, encoding="utf-8")
    _, issue_file, r = _render(project)
    visible = " ".join(document(r.html).text_content().split())
    flat = " ".join(r.text.split())
    for needle in (
        "Monday 1 July 2024, 12:00 (UK time)",  # no zone given: the settings' zone
        "Tuesday 6 August 2024, 15:00–16:30 (CEST)",
        "Friday 6 September 2024, 14:00 (UTC-04:00)",
    ):
        assert needle in visible and needle in flat, needle


def test_event_time_zone_is_validated(project: Path) -> None:
    issue = project / EXAMPLE_ISSUE
    text = issue.read_text(encoding="utf-8").replace(
        "        start: 2024-08-06 15:00\n", "        timezone: Europe/Pariss\n        start: 2024-08-06 15:00\n"
    )
    issue.write_text(text, encoding="utf-8")
    line = text.splitlines().index("        timezone: Europe/Pariss") + 1
    result = run_cli("build", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 2 and "Traceback" not in result.err
    assert f"{EXAMPLE_ISSUE}:{line}:19: " in result.err and "), item 2, timezone:" in result.err


@settings(max_examples=200, deadline=None)
@given(
    fields=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_substitutions_escape_each_value_for_its_context(fields: list[str], data: st.DataObject) -> None:
    """The written-out filler gives what escaping each value by hand gives, for any
    value (quotes, ampersands, non-ASCII, line breaks) and a missing field."""
    tokens = [token(f, c) for f in fields for c in CONTEXTS]
    values = {f: data.draw(st.text()) for f in fields if data.draw(st.booleans())}
    expected = {token(f, c): escape(values.get(f, ""), c) for f in fields for c in CONTEXTS}
    assert substituter(tokens)(values) == expected


def test_a_long_word_holding_a_merge_token_keeps_the_token_whole(project: Path) -> None:
    """A word longer than a line is cut to fit the plain text's width, but never through a
    merge token (a cut token would reach the reader raw, and the name never)."""
    word = '"x" * 60 ~ recipient.first_name ~ "y" * 18'  # 100 characters once tokenized
    result = _override(project, "text/divider.txt.j2", "{{ ('Before the word ' ~ " + word + " ~ ' and after it.') | wrap }}\n")
    assert result.code == 0, result.output
    p, _, r = _render(project)
    long = "x" * 60 + token("first_name", "text") + "y" * 18
    assert len(long) == 100 and long in r.text.splitlines()
    assert "first_name" in r.text_parts.fields
    _, text = r.fill(_values(p, first_name="Amina"))
    assert "x" * 60 + "Amina" + "y" * 18 in text and "__nl_" not in text
