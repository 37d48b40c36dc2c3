"""Markdown for issue text: one parser, safe settings, HTML and plain-text output.

Raw HTML in Markdown is disabled (issue text cannot inject markup); every link
and image URL is checked with the same rule as every other URL in an issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.fields import check_url
from newsletter.wrap import wrap


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["code", "fence", "html_block", "html_inline", "lheading"])
    md.validateLink = _validate_link  # type: ignore[method-assign]
    return md


def _validate_link(url: str) -> bool:
    """Every link and image URL markdown-it finds: refused loudly, never dropped silently."""
    check_url(url)
    return True


@lru_cache(maxsize=4096)
def _block_tokens(text: str) -> tuple[Token, ...]:
    """Parsed once per distinct text: loading checks the links, rendering reuses the tokens."""
    return tuple(parser().parse(text))


@lru_cache(maxsize=4096)
def _inline_tokens(text: str) -> tuple[Token, ...]:
    return tuple(parser().parseInline(text))


def check_links(text: str) -> str:
    """Raise ValueError for any link or image in ``text`` whose URL is not allowed."""
    for kind, url in _urls(list(_block_tokens(text))):
        if kind == "image":
            check_url(url, ("http", "https"))
        else:
            check_url(url)
    return text


def _urls(tokens: list[Token]) -> Iterator[tuple[str, str]]:
    for tok in tokens:
        if tok.type == "link_open":
            yield "link", str(tok.attrGet("href") or "")
        elif tok.type == "image":
            yield "image", str(tok.attrGet("src") or "")
        if tok.children:
            yield from _urls(tok.children)


def to_html(text: str, *, inline: bool = False) -> str:
    """Markdown → HTML. ``inline`` renders one paragraph without the ``<p>`` wrapper."""
    md = parser()
    tokens = _inline_tokens(text) if inline else _block_tokens(text)
    return str(md.renderer.render(list(tokens), md.options, {}))


# --- plain text -------------------------------------------------------------------

WIDTH = 76


def _inline_text(tokens: list[Token]) -> str:
    out: list[str] = []
    href_stack: list[str] = []
    start_stack: list[int] = []
    for tok in tokens:
        if tok.type == "text" or tok.type == "code_inline":
            out.append(tok.content)
        elif tok.type in ("softbreak",):
            out.append(" ")
        elif tok.type == "hardbreak":
            out.append("\n")
        elif tok.type == "link_open":
            href_stack.append(str(tok.attrGet("href") or ""))
            start_stack.append(len(out))
        elif tok.type == "link_close":
            href = href_stack.pop()
            label = "".join(out[start_stack.pop() :]).strip()
            target = href[len("mailto:") :] if href.startswith("mailto:") else href
            if label != target:
                out.append(f" ({target})")
        elif tok.type == "image" and tok.content.strip():
            out.append(f"[{tok.content.strip()}]")  # no alt text: decorative, left out
    return "".join(out)


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    return wrap(text, indent, first or indent, WIDTH)


def to_text(text: str) -> str:
    """Markdown → readable plain text: links as ``text (URL)``, lists with bullets."""
    tokens = _block_tokens(text)
    blocks: list[str] = []
    list_stack: list[list[int]] = []  # per open list: [ordered?, counter]
    item_prefix: str | None = None
    quote_depth = 0
    for tok in tokens:
        if tok.type == "bullet_list_open":
            list_stack.append([0, 0])
        elif tok.type == "ordered_list_open":
            list_stack.append([1, int(tok.attrGet("start") or 1) - 1])
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif tok.type == "list_item_open":
            top = list_stack[-1]
            top[1] += 1
            depth = "  " * (len(list_stack) - 1)
            item_prefix = f"{depth}{top[1]}. " if top[0] else f"{depth}* "
        elif tok.type == "blockquote_open":
            quote_depth += 1
        elif tok.type == "blockquote_close":
            quote_depth -= 1
        elif tok.type == "inline":
            content = _inline_text(tok.children or [])
            if item_prefix is not None:
                blocks.append(_wrap(content, " " * len(item_prefix), item_prefix))
                item_prefix = None
            elif list_stack:
                indent = "  " * len(list_stack) + "  "
                blocks.append(_wrap(content, indent))
            elif quote_depth:
                blocks.append(_wrap(content, "> " * quote_depth))
            else:
                blocks.append(_wrap(content))
        elif tok.type == "hr":
            blocks.append("-" * 20)
    # items of one list stay together; paragraphs are separated by a blank line
    out: list[str] = []
    for block in blocks:
        if out and not (_is_item(block) and _is_item(out[-1])):
            out.append("")
        out.append(block)
    return "\n".join(out).strip("\n")


def _is_item(block: str) -> bool:
    head = block.lstrip()
    return head.startswith("* ") or (head[:1].isdigit() and ". " in head[:5])


def inline_text(text: str) -> str:
    """One line of inline Markdown → plain text (links as ``text (URL)``)."""
    tokens = _inline_tokens(text)
    return _inline_text(tokens[0].children or []) if tokens else ""
