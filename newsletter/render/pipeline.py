"""The render pipeline: Jinja → MJML → mjml-python → CSS inlining → HTML, and the text part.

Runs once per issue. The result carries per-recipient tokens; see
:mod:`newsletter.render.personalize` for filling them.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import mjml
from jinja2.exceptions import SecurityError

from newsletter.colours import logo_plate
from newsletter.errors import InputError, Problem, display_path
from newsletter.fields import primary
from newsletter.issue.languages import is_rtl
from newsletter.issue.load import IssueFile
from newsletter.render import catalog, dates, guard, words
from newsletter.render import env as envs
from newsletter.render.inline import inline
from newsletter.render.mjml_check import find_mjml_error
from newsletter.render.personalize import RecipientTokens, Tokenized, token
from newsletter.settings import Settings
from newsletter.sitenames import CalendarLinks

EMAIL_WIDTH = 600
"""The email's width in pixels (``mj-body``); sections have no side padding."""
GUTTER = 24
"""Left and right padding of every block in a column but the hero."""
GMAIL_CLIP_BYTES = 102 * 1024
SIZE_WARNING_BYTES = 90 * 1024

_LINK = re.compile(r"<a\s[^>]*href=\"([^\"]*)\"", re.IGNORECASE)
_IMG = re.compile(r"<img\s", re.IGNORECASE)
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One issue, rendered once: the same for every recipient but for its tokens."""

    slug: str
    subject: str
    preheader: str
    html: str
    text: str
    archive_url: str
    warnings: tuple[str, ...] = ()
    language: str | None = None
    """The language of this render, for an issue in several (None: the settings' one)."""
    html_parts: Tokenized = field(repr=False, compare=False, default=Tokenized(("",), ()))
    text_parts: Tokenized = field(repr=False, compare=False, default=Tokenized(("",), ()))

    @property
    def size_bytes(self) -> int:
        return len(self.html.encode("utf-8"))

    @property
    def links(self) -> list[str]:
        return _LINK.findall(self.html)

    @property
    def image_count(self) -> int:
        return len(_IMG.findall(self.html))

    @property
    def tokens(self) -> frozenset[str]:
        return self.html_parts.tokens | self.text_parts.tokens

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """(html, text) for one recipient."""
        return self.html_parts.fill(values), self.text_parts.fill(values)


def _template_problem(exc: BaseException, root: Path | None) -> Problem:
    """Where in which template a Jinja error (or a bound of :mod:`~newsletter.render.guard`) happened."""
    hint = "fix the template or remove your override"
    not_found = isinstance(exc, jinja2.TemplateNotFound)
    name = None if not_found else getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = None if not_found else getattr(exc, "lineno", None)
    if name is None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(".j2"):
                name, line = frame.filename, frame.lineno
                break
    shown = display_path(name) if name else "template"
    message = getattr(exc, "message", None) or str(exc)
    if not_found:
        message = f"template '{getattr(exc, 'name', message)}' not found"
        hint = (
            "templates are looked up by name in the project's templates/ folder, then the "
            "built-in theme; names with '..' or starting with '/' are never looked up"
        )
    elif isinstance(exc, SecurityError):
        message = f"not allowed in a template: {message}"
    elif isinstance(exc, RecursionError):
        message = "a template includes itself, or a macro calls itself, without end"
        hint = "stop the recursion: include or call it only under a condition that ends"
    elif isinstance(exc, OverflowError | MemoryError):
        message = f"the template asks for a value too large to make ({type(exc).__name__}: {exc})"
    return Problem(shown, line, None, "", message, hint)


def render_template(environment: jinja2.Environment, name: str, context: dict[str, Any], root: Path | None) -> str:
    try:
        with guard.deadline(), dates.written_in(context.get("date_locale")):
            return environment.get_template(name).render(context)
    except (
        jinja2.TemplateError,
        SecurityError,
        RecursionError,
        MemoryError,
        ArithmeticError,
        TypeError,
        ValueError,
    ) as exc:  # the last three: a template's own mistake (1 + "a", _("%d"))
        raise InputError(_template_problem(exc, root), summary="template error") from None


def render_mjml(issue_file: IssueFile, settings: Settings, root: Path | None = None, *, live: bool = True) -> str:
    """Jinja stage only: the MJML source of the email (``live``: see :func:`~newsletter.render.env.html_env`)."""
    return render_template(
        envs.html_env(root, theme_language(issue_file, settings), live=live),
        "base.mjml.j2",
        _context(issue_file, settings, "html"),
        root,
    )


def theme_language(issue_file: IssueFile, settings: Settings) -> str:
    """The catalog of the theme's words for this render (:func:`catalog.key`)."""
    return catalog.key(issue_file.language or settings.language)


def _context(issue_file: IssueFile, settings: Settings, context: str) -> dict[str, Any]:
    base = settings.web_archive_url
    if not base.endswith("/"):
        base += "/"
    tag = issue_file.language or settings.language
    return {
        "issue": issue_file.issue,
        # the language's tag and direction (<html lang dir>, repeated by MJML inside <body>);
        # an issue in several languages has its dates in each reader's language
        "language": tag,
        "rtl": is_rtl(tag),
        "date_locale": _date_locale(issue_file.language, settings.language),
        "slug": issue_file.slug,
        # the footer's reason in this language (its words in newsletter.yaml, or the catalog's)
        "settings": words.settings_in(settings, issue_file.language),
        "colours": settings.colours,
        # the cell behind the logo, in a colour that keeps the logo readable when an app
        # inverts the email's colours (the logo, an image, keeps its own): None if the band does
        "logo_plate": logo_plate(settings.colours.button_text, settings.colours.brand) if settings.logo else None,
        "archive_url": f"{base}{issue_file.page_slug}.html",
        "calendar_url": _calendar_links(base, issue_file),
        "recipient": RecipientTokens("html" if context == "html" else "text"),
        # content boxes: an image's width attribute never exceeds its box (as MJML 5 writes it)
        "layout": {"width": EMAIL_WIDTH, "box": EMAIL_WIDTH - 2 * GUTTER, "gutter": GUTTER},
    }


def _calendar_links(base: str, issue_file: IssueFile) -> CalendarLinks:
    """The calendar files an issue's events link to; in every language the default
    language's (an event's identity never depends on the language it is read in)."""
    links = CalendarLinks.of(base, issue_file.issue)
    if not issue_file.variants or issue_file.variants[0][1] is issue_file.issue:
        return links
    from newsletter.issue.events import issue_events

    default = issue_file.variants[0][1]
    named = CalendarLinks.of(base, default).names
    ordered = [named.get(id(item.event), "") for item in issue_events(default)]
    names = {id(item.event): name for item, name in zip(issue_events(issue_file.issue), ordered, strict=True)}
    return CalendarLinks(links.base, names)


def _date_locale(language: str | None, default: str) -> str | None:
    """The locale dates are written in: none (British English) for an issue in one language;
    the settings' own tag for the language it names (``en-GB`` for ``en``), else the language's."""
    if language is None:
        return None
    return default if primary(language) == primary(default) else language


def mjml_to_html(source: str) -> str:
    """MJML → HTML (mjml-python), its structure checked first; InputError when it is wrong."""
    mjml_error = find_mjml_error(source)
    if mjml_error is not None:
        line, message = mjml_error
        raise InputError(
            Problem("generated MJML", line, None, "", message, "check your template overrides"),
            summary="MJML error",
        )
    try:
        html = mjml.mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        raise InputError(
            Problem(
                "generated MJML", None, None, "", f"MJML could not be turned into HTML: {exc}", "check your template overrides"
            ),
            summary="MJML error",
        ) from None
    return html


def render_html_for_browsers(issue_file: IssueFile, settings: Settings, root: Path | None = None) -> str:
    """The email's HTML as a browser reads it: MJML's own output, its CSS left in ``<style>``
    (a browser needs no inlining) and no plain-text part. The web edition starts from it, in one
    go: its templates are not checked for changes at every use."""
    return mjml_to_html(render_mjml(issue_file, settings, root, live=False))


def render_issue(issue_file: IssueFile, settings: Settings, root: Path | None = None) -> Rendered:
    """Render an issue to HTML and text, once, with tokens where per-recipient values go."""
    html = inline(mjml_to_html(render_mjml(issue_file, settings, root)), settings.inliner)
    text = render_template(
        envs.text_env(root, theme_language(issue_file, settings)),
        "text/base.txt.j2",
        _context(issue_file, settings, "text"),
        root,
    )
    text = "\n".join(line.rstrip() for line in text.splitlines())
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"
    issue = issue_file.issue
    warnings: list[str] = []
    size = len(html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        warnings.append(f"HTML is {size / 1024:.0f} KB: Gmail clips messages over 102 KB")
    elif size > SIZE_WARNING_BYTES:
        warnings.append(f"HTML is {size / 1024:.0f} KB, close to Gmail's 102 KB clipping limit")
    if not issue.preheader:
        warnings.append("no preheader: inboxes will show the first words of the email instead")
    if token("unsubscribe_url", "html") not in html:
        warnings.append("the HTML has no per-recipient unsubscribe link")
    return Rendered(
        slug=issue_file.slug,
        subject=issue.subject,
        preheader=issue.preheader or "",
        html=html,
        text=text,
        archive_url=_context(issue_file, settings, "html")["archive_url"],
        warnings=tuple(warnings),
        language=issue_file.language,
        html_parts=Tokenized.of(html),
        text_parts=Tokenized.of(text),
    )
