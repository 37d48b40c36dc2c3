"""The configuration table of docs/configuration.md, generated from the field docstrings in
newsletter/settings.py (read from the source with ``ast``: pydantic's own
``use_attribute_docstrings`` would re-read the source at every start of the tool).
``python scripts/settings_table.py --write`` updates that page; tests/test_docs.py fails
when the page and the code disagree."""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from newsletter.settings import Settings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


@cache
def _docstrings(model: type[BaseModel]) -> dict[str, str]:
    """Field name → the string literal written under it in the class body."""
    tree = ast.parse(inspect.getsource(model))
    body = tree.body[0].body  # type: ignore[attr-defined]
    out: dict[str, str] = {}
    for stmt, nxt in zip(body, body[1:]):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            out[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return out


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    value = field.default
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "none"
    return f"`{value}`"


def _rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        doc = " ".join(_docstrings(model).get(name, "").split()).replace("|", "\\|")
        if not doc:
            raise SystemExit(f"{model.__name__}.{name} has no docstring: document it under the field")
        rows.append(f"| `{key}` | {_default(field)} | {doc} |")
        for tp in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in {m for _, m in nested}:
                nested.append((key + ".", tp))
    for sub_prefix, sub in nested:
        rows.extend(_rows(sub, sub_prefix))
    return rows


def table() -> str:
    return "\n".join(["| key | default | what it does |", "| --- | --- | --- |", *_rows(Settings)])


def updated_page(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    current = PAGE.read_text(encoding="utf-8")
    new = updated_page(current)
    if "--write" in sys.argv:
        PAGE.write_text(new, encoding="utf-8")
    else:
        print(table())
