"""Requests and answers checked against SendGrid's own OpenAPI files (``tests/data/tsg_*.json``,
copies of ``shared/sendgrid/``).

A request must name a path and method the files describe; its query parameters must be
ones the operation lists, of the right type and range, with the required ones present
(headers too); its JSON body must match the request schema. An answer's status must be
one the operation lists (or an error in SendGrid's error shape), and its body must match
that status's schema. OpenAPI 3.0's ``nullable`` is read as JSON Schema's ``null`` type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

DATA = Path(__file__).resolve().parent / "data"
FILES = (
    "tsg_mail_v3.json",
    "tsg_suppressions_v3.json",
    "tsg_scheduled_sends_v3.json",
    "tsg_stats_v3.json",
    "tsg_logs_v3.json",
    "tsg_recipients_data_erasure_v3.json",
    "tsg_domain_authentication_v3.json",
    "tsg_verified_senders_v3.json",
)
ERROR_SHAPE = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}},
            },
        }
    },
}


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@dataclass(frozen=True)
class Operation:
    doc: dict[str, Any] = field(repr=False)
    template: str
    method: str
    spec: dict[str, Any] = field(repr=False)
    parameters: tuple[dict[str, Any], ...] = field(repr=False)


@lru_cache(maxsize=1)
def _documents() -> list[dict[str, Any]]:
    return [_nullable(json.loads((DATA / name).read_text(encoding="utf-8"))) for name in FILES]


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        ref = node["$ref"]
        assert ref.startswith("#/")
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


@lru_cache(maxsize=256)
def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def find(method: str, path: str) -> Operation | None:
    """The operation for ``method path`` (literal segments win over ``{parameters}``)."""
    best: Operation | None = None
    for doc in _documents():
        for template, ops in doc["paths"].items():
            if not _pattern(template).match(path) or method.lower() not in ops:
                continue
            common = [_resolve(doc, p) for p in ops.get("parameters", [])]
            own = [_resolve(doc, p) for p in ops[method.lower()].get("parameters", [])]
            op = Operation(doc, template, method.lower(), ops[method.lower()], tuple(common + own))
            if best is None or template.count("{") < best.template.count("{"):
                best = op
    return best


_VALIDATORS: dict[tuple[int, int], Any] = {}


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    from jsonschema import Draft7Validator, FormatChecker

    key = (id(doc), id(schema))
    if key not in _VALIDATORS:
        _VALIDATORS[key] = Draft7Validator({**schema, "components": doc.get("components", {})}, format_checker=FormatChecker())
    return _VALIDATORS[key]


def _errors(doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> list[str]:
    out = []
    for err in _validator(doc, schema).iter_errors(value):
        at = ".".join(str(p) for p in err.absolute_path)
        out.append(f"{where}{'.' + at if at else ''}: {err.message}"[:300])
    return out


def _coerce(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def check_request(method: str, raw_path: str, headers: Any, body: bytes) -> tuple[Operation | None, list[str]]:
    """(operation, problems) for one request as the server received it."""
    path, _, query = raw_path.partition("?")
    op = find(method, path)
    if op is None:
        return None, [f"{method} {path}: not an operation SendGrid's files describe"]
    problems: list[str] = []
    given = dict(parse_qsl(query, keep_blank_values=True))
    known = {p["name"] for p in op.parameters if p.get("in") == "query"}
    for name in given:
        if name not in known:
            problems.append(f"query {name}: not a parameter of {method} {op.template}")
    for p in op.parameters:
        where, name = p.get("in"), p["name"]
        schema = _resolve(op.doc, p.get("schema", {}))
        if where == "query":
            if name in given:
                problems += _errors(op.doc, schema, _coerce(schema, given[name]), f"query {name}")
            elif p.get("required"):
                problems.append(f"query {name}: required")
        elif where == "header" and p.get("required") and headers.get(name) is None:
            problems.append(f"header {name}: required")
    request_body = _resolve(op.doc, op.spec.get("requestBody"))
    if body:
        if request_body is None:
            problems.append(f"{method} {op.template} takes no body")
        else:
            try:
                value = json.loads(body)
            except ValueError:
                return op, [*problems, "body: not JSON"]
            schema = _resolve(op.doc, request_body["content"]["application/json"]["schema"])
            problems += _errors(op.doc, schema, value, "body")
    elif request_body is not None and request_body.get("required", True) and op.method in ("post", "put"):
        problems.append("body: required")
    return op, problems


def check_answer(op: Operation, status: int, body: bytes) -> list[str]:
    """Problems with an answer the server is about to give to ``op``."""
    responses = op.spec.get("responses", {})
    spec = _resolve(op.doc, responses.get(str(status)) or responses.get("default"))
    if spec is None:
        if status >= 400:  # an error the file does not list: SendGrid's error shape
            try:
                return _errors(op.doc, ERROR_SHAPE, json.loads(body), f"answer {status}")
            except ValueError:
                return [f"answer {status}: not JSON"]
        return [f"answer {status}: not a status {op.method.upper()} {op.template} answers with"]
    content = spec.get("content", {}).get("application/json")
    if content is None or "schema" not in content:
        return [] if not body else [f"answer {status}: has a body the file does not describe"]
    try:
        value = json.loads(body)
    except ValueError:
        return [f"answer {status}: not JSON"]
    return _errors(op.doc, _resolve(op.doc, content["schema"]), value, f"answer {status}")
