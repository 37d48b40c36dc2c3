"""Language variants of one issue: one structure, its words in several languages.

An issue names its languages at the top (``languages: [en, cy]``); then any value may be
written either plainly (the same in every language) or as a mapping of those languages to
their words::

    title:
      en: "June Team Update"
      cy: "Diweddariad Tîm Mehefin"

A mapping counts as a translation when every one of its keys is one of the issue's
languages, so a block or an event (whose keys are field names) is never mistaken for one.
A translation holds text, never a list or a mapping: the blocks and their order are the
same in every language.

:func:`project` turns the YAML document into one language's document, keeping every
value's position (a Welsh text's error points at the Welsh line), so the issue model and
everything after it never see a translation. Words missing in a language (a translation
without it, or plain words where every language needs its own) fall back to the default
language's and are listed, at their line, for ``check``'s ``translation-missing`` rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsletter.errors import NewsletterError, Problem
from newsletter.fields import check_tag, primary
from newsletter.yamldoc import Document, PathKey, _field_name

if TYPE_CHECKING:
    from newsletter.issue.load import IssueFile

TEXT_KEYS = frozenset({"title", "subject", "preheader", "intro", "text", "alt", "caption", "credit", "label", "summary"})
"""Keys whose plain value is words a reader reads: in an issue of several languages each
needs its words in every language. Names, addresses and times may stay plain."""
_FIXED_KEYS = frozenset({"type", "languages", "date"})
"""Keys that shape the issue and so are the same in every language."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One language's document, and the words it lacks (shown in the default language)."""

    language: str
    doc: Document
    missing: tuple[Problem, ...]


def is_rtl(tag: str) -> bool:
    """Whether a language is written right to left (Babel's ``character_order``)."""
    if primary(tag) == "en":  # the usual case, answered without loading Babel's data
        return False
    from babel import Locale, UnknownLocaleError

    try:
        return bool(Locale.parse(tag, sep="-").character_order == "right-to-left")
    except (ValueError, UnknownLocaleError):
        return False


def declared(doc: Document, default: str) -> tuple[tuple[str, ...], str | None, list[Problem]]:
    """The issue's languages, its default language (the settings' one, or the one of the
    same language: ``en`` for ``en-GB``) and the problems with them.

    An issue without ``languages:`` has none: it is written in the settings' language."""
    data = doc.data
    raw = data.get("languages") if isinstance(data, Mapping) else None
    if raw is None:
        return (), None, []
    problems: list[Problem] = []

    def problem(path: PathKey, message: str, hint: str = "") -> None:
        at = doc.position(path)
        problems.append(
            Problem(doc.file, at.line if at else None, at.column if at else None, _field_name(path, data), message, hint)
        )

    if not isinstance(raw, list) or not raw:
        problem(("languages",), "expected a list of language tags, e.g. [en, cy]")
        return (), None, problems
    tags: list[str] = []
    for i, tag in enumerate(raw):
        why = check_tag(tag)
        if why is not None:
            problem(("languages", i), why)
        elif tag in tags:
            problem(("languages", i), f"'{tag}' is listed twice")
        else:
            tags.append(tag)
    if problems:
        return (), None, problems
    chosen = default if default in tags else next((t for t in tags if primary(t) == primary(default)), None)
    if chosen is None:
        problem(
            ("languages",),
            f"none of these is the newsletter's language '{default}'",
            "add it (readers whose language the issue lacks get it), or change language: in newsletter.yaml",
        )
        return (), None, problems
    return tuple(tags), chosen, []


def _is_translation(value: Any, languages: tuple[str, ...]) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(k in languages for k in value)


def structure_problems(doc: Document, languages: tuple[str, ...]) -> list[Problem]:
    """Translations where the structure must be one: of a list or mapping, or of ``type``,
    ``date`` or ``languages``."""
    problems: list[Problem] = []

    def walk(value: Any, path: PathKey) -> None:
        if _is_translation(value, languages):
            bad = "" if not path or path[-1] not in _FIXED_KEYS else f"'{path[-1]}' is the same in every language"
            for lang, text in value.items():
                if bad or isinstance(text, Mapping | list):
                    at = doc.position(path + (lang,))
                    problems.append(
                        Problem(
                            doc.file,
                            at.line if at else None,
                            at.column if at else None,
                            _field_name(path, doc.data),
                            bad or "a translation holds words, not a list or a mapping",
                            "the blocks, lists and their order are the same in every language: translate each text in its place",
                        )
                    )
                    if bad:
                        return
            return
        if _looks_translated(value, languages):
            for key in value:
                if key not in languages:
                    at = doc.position(path + (key,), key=True)
                    problems.append(
                        Problem(
                            doc.file,
                            at.line if at else None,
                            at.column if at else None,
                            _field_name(path, doc.data),
                            f"'{key}' is not one of this issue's languages ({', '.join(languages)})",
                            "add it to languages: at the top, or correct the tag",
                        )
                    )
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    walk(doc.data, ())
    return problems


def _looks_translated(value: Any, languages: tuple[str, ...]) -> bool:
    """A mapping of words under language tags, one or more of them not the issue's (a
    misspelt or missing language): every key a tag, at least one the issue's, every value words."""
    if not isinstance(value, Mapping) or not any(k in languages for k in value):
        return False
    return all(isinstance(k, str) and check_tag(k) is None for k in value) and not any(
        isinstance(v, Mapping | list) for v in value.values()
    )


def project(doc: Document, language: str, languages: tuple[str, ...], default: str) -> Variant:
    """One language's document: each translation replaced by its words in ``language``
    (the default language's where it lacks them), positions kept."""
    values = dict(doc.values)
    keys = dict(doc.keys)
    missing: list[Problem] = []
    several = len(languages) > 1

    def lacking(path: PathKey, hint: str) -> None:
        at = doc.position(path)
        missing.append(
            Problem(
                doc.file,
                at.line if at else None,
                at.column if at else None,
                field_path(path, doc.data),
                f"no {language} text",
                hint,
            )
        )

    def walk(value: Any, path: PathKey, parent: Any) -> Any:
        if _is_translation(value, languages):
            chosen = language if language in value else default if default in value else next(iter(value))
            if chosen != language:
                lacking(path, f'add its {language} words under it, as {language}: "…"')
            if path + (chosen,) in doc.values:
                values[path] = doc.values[path + (chosen,)]
            return value[chosen]
        if isinstance(value, Mapping):
            return {k: walk(v, path + (k,), value) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path + (i,), value) for i, v in enumerate(value)]
        if several and language != default and isinstance(value, str) and value.strip() and path and _is_words(path, parent):
            lacking(path, "write it once per language: {" + ", ".join(f"{t}: …" for t in languages) + "}")
        return value

    data = walk(doc.data, (), None)
    projected = Document(doc.file, data, values, keys, list(doc.problems))
    return Variant(language, projected, tuple(missing))


def field_path(path: PathKey, data: Any) -> str:
    """A data path as ``check --format json`` writes fields: ``blocks[1].heading.text``."""
    out = ""
    node = data
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if path[:1] == ("blocks",) and out.count("[") == 1 and isinstance(node, Mapping):
                out += f".{node.get('type')}"
        else:
            out += f".{part}" if out else part
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


def _is_words(path: PathKey, parent: Any) -> bool:
    last = path[-1]
    if isinstance(last, str):
        return last in TEXT_KEYS
    # a list block's items are words; an events or links block's items are mappings
    return len(path) >= 2 and path[-2] == "items" and isinstance(parent, list)


def choose_language(issue_file: IssueFile, language: str, default: str) -> IssueFile:
    """The issue in ``language`` (as a reader's ``--lang`` names it); a language the issue
    is not written in is refused, naming the ones it is."""
    if not issue_file.languages:
        if language == default or primary(language) == primary(default) == language:
            return issue_file
        raise NewsletterError(
            f"{issue_file.doc.file} is written in {default} only, not '{language}' "
            "(an issue in several languages lists them: languages: [en, cy])"
        )
    for tag in issue_file.languages:
        if tag == language:
            return issue_file.variant(tag)
    raise NewsletterError(f"{issue_file.doc.file} has no '{language}' text; its languages are {', '.join(issue_file.languages)}")
