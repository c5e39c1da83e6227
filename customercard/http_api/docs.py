"""``/api/v1/openapi.json`` and ``/api/v1/docs``: the API's OpenAPI document, and the same document as a plain web
page — its operations (parameters, bodies, answers), its schemas (every field with its type, limits and help) and
the problems it answers with. The page is drawn on the server: no script, nothing from another site, so the
server's strict Content-Security-Policy holds for it as for every page. Neither needs a login: they describe the
API, not the firm's data.
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..i18n import N_, _, current_language
from ..ui import assets
from .base import API_PREFIX, PROBLEMS, ApiHandler, Caller, Reply
from .openapi import REF, document

METHODS = ("get", "post", "patch", "delete")

PAGE_CSS = assets.text("api_docs.css")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _text(value: str) -> str:
    """A description: escaped, `code` as code, lines kept."""
    escaped = _esc(value)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return escaped.replace("\n", "<br>")


def _schema_link(name: str) -> str:
    return f'<a href="#schema-{_esc(name)}">{_esc(name)}</a>'


def describe(schema: dict[str, Any]) -> str:  # noqa: PLR0912 - one branch per JSON Schema keyword
    """A schema in a few words (HTML): its type, limits, allowed values, format, or a link to a named schema."""
    if not schema:
        return _esc(_("any value"))
    if "$ref" in schema:
        return _schema_link(schema["$ref"][len(REF):])
    if "anyOf" in schema:
        return " | ".join(describe(part) for part in schema["anyOf"])
    kinds = schema.get("type", "")
    kinds = list(kinds) if isinstance(kinds, list) else [kinds] if kinds else []
    if kinds == ["null"]:
        return "null"
    parts = []
    if "enum" in schema:
        parts.append(_esc(_("one of")) + " " + ", ".join(f"<code>{_esc(v)}</code>" for v in schema["enum"]
                                                          if v is not None))
    elif "array" in kinds:
        parts.append(_esc(_("list of")) + " " + describe(schema.get("items", {})))
    elif "object" in kinds and isinstance(schema.get("additionalProperties"), dict):
        parts.append(_esc(_("object of")) + " " + describe(schema["additionalProperties"]))
    else:
        parts.append(_esc(" | ".join(k for k in kinds if k != "null") or _("any value")))
    if schema.get("format"):
        parts.append(f'<span class="muted">{_esc(schema["format"])}</span>')
    if "maxLength" in schema:
        parts.append(_esc(_("at most {n} characters").format(n=schema["maxLength"])))
    if "minimum" in schema or "maximum" in schema:
        parts.append(_esc(f"{schema.get('minimum', '…')}–{schema.get('maximum', '…')}"))
    if "pattern" in schema:
        parts.append(f"<code>{_esc(schema['pattern'])}</code>")
    if "null" in kinds:
        parts.append(_esc(_("or null")))
    return ", ".join(parts)


def _parameters(parameters: list[dict[str, Any]]) -> str:
    if not parameters:
        return ""
    rows = "".join(
        f"<tr><td><code>{_esc(p['name'])}</code>{' <span class=req>*</span>' if p.get('required') else ''}</td>"
        f"<td>{_esc(p['in'])}</td><td>{describe(p.get('schema', {}))}</td>"
        f"<td>{_text(p.get('description', ''))}</td></tr>" for p in parameters)
    return (f"<table><tr><th>{_esc(_('Parameter'))}</th><th>{_esc(_('In'))}</th><th>{_esc(_('Value'))}</th>"
            f"<th>{_esc(_('Meaning'))}</th></tr>{rows}</table>")


def _responses(responses: dict[str, Any]) -> str:
    rows = []
    for status, response in responses.items():
        content = response.get("content", {})
        kind, media = next(iter(content.items()), ("", {}))
        body = f"<code>{_esc(kind)}</code> {describe(media.get('schema', {}))}" if kind else ""
        headers = ", ".join(f"<code>{_esc(name)}</code>" for name in response.get("headers", {}))
        rows.append(f"<tr><td>{_esc(status)}</td><td>{_text(response.get('description', ''))}</td><td>{body}</td>"
                    f"<td>{headers}</td></tr>")
    return (f"<table><tr><th>{_esc(_('Status'))}</th><th>{_esc(_('Meaning'))}</th><th>{_esc(_('Body'))}</th>"
            f"<th>{_esc(_('Headers'))}</th></tr>{''.join(rows)}</table>")


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    sent = f"<p>{_esc(_('Body'))}: <code>application/json</code> {describe(body)}</p>" if body else ""
    public = f' <span class="muted">({_esc(_("no login needed"))})</span>' if operation.get("security") == [] else ""
    return (f'<section id="{_esc(operation["operationId"])}"><h3><span class="method {method}">{method.upper()}</span>'
            f"<code>{_esc(path)}</code></h3><p>{_text(operation.get('summary', ''))}{public}</p>"
            f"{_parameters(operation.get('parameters', []))}{sent}{_responses(operation['responses'])}</section>")


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    properties = schema.get("properties", {})
    rows = "".join(
        f"<tr><td><code>{_esc(field)}</code>{' <span class=req>*</span>' if field in required else ''}</td>"
        f"<td>{describe(value)}</td><td>{_esc(value.get('title', ''))}</td>"
        f"<td>{_text(value.get('description', ''))}</td></tr>" for field, value in properties.items())
    table = (f"<table><tr><th>{_esc(_('Field'))}</th><th>{_esc(_('Value'))}</th><th>{_esc(_('Label'))}</th>"
             f"<th>{_esc(_('Meaning'))}</th></tr>{rows}</table>") if rows else f"<p>{describe(schema)}</p>"
    return (f'<section id="schema-{_esc(name)}"><h3>{_esc(name)}</h3>'
            f"<p>{_text(schema.get('description', ''))}</p>{table}</section>")


#: The headings of the operations' groups (their tags in the document, kept as they are for the anchors).
TAG_HEADINGS = {"customers": N_("Customers"), "history": N_("History"), "invoicing": N_("Invoicing"),
                "contacts": N_("Contact persons"), "comments": N_("Comments"), "events": N_("Events"),
                "opportunities": N_("Opportunities"), "relations": N_("Relations"), "projects": N_("Projects"),
                "follow-ups": N_("Follow-ups"), "me": N_("Me"), "documentation": N_("Documentation")}


def _heading(tag: str) -> str:
    return _esc(_(TAG_HEADINGS[tag]) if tag in TAG_HEADINGS else tag)


def page(doc: dict[str, Any]) -> str:
    """The document as a web page."""
    info = doc["info"]
    operations = [(path, method, operation) for path, item in doc["paths"].items() for method in METHODS
                  if (operation := item.get(method))]
    tags: dict[str, list[str]] = {}
    for path, method, operation in operations:
        tags.setdefault(operation["tags"][0], []).append(_operation(path, method, operation))
    problems = "".join(f'<tr id="problem-{_esc(anchor)}"><td>{status}</td><td>{_esc(_(title))}</td></tr>'
                       for status, (title, anchor) in PROBLEMS.items())
    schemes = "".join(f"<li><code>{_esc(name)}</code>: {_text(scheme.get('description', ''))}</li>"
                      for name, scheme in doc["components"]["securitySchemes"].items())
    sections = "".join(f'<h2 id="tag-{_esc(tag)}">{_heading(tag)}</h2>{"".join(items)}' for tag, items in tags.items())
    schemas = "".join(_schema(name, schema) for name, schema in doc["components"]["schemas"].items())
    nav = " ".join(f'<a href="#tag-{_esc(tag)}">{_heading(tag)}</a>' for tag in tags)
    return (f'<!DOCTYPE html><html lang="{_esc(current_language())}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(info['title'])}</title><style>{PAGE_CSS}</style></head><body><main>"
            f"<h1>{_esc(info['title'])}</h1><p class=muted>{_esc(_('Version'))} {_esc(info['version'])} · OpenAPI "
            f"{_esc(doc['openapi'])} · <a href=\"{API_PREFIX}/openapi.json\">openapi.json</a></p>"
            f"<p>{_text(info['description'])}</p><nav>{nav} <a href=\"#schemas\">{_esc(_('Schemas'))}</a></nav>"
            f"<h2>{_esc(_('Authentication'))}</h2><ul>{schemes}</ul>"
            f"<h2 id=\"problems\">{_esc(_('Problems'))}</h2><table><tr><th>{_esc(_('Status'))}</th>"
            f"<th>{_esc(_('Meaning'))}</th></tr>{problems}</table>"
            f"{sections}<h2 id=\"schemas\">{_esc(_('Schemas'))}</h2>{schemas}</main></body></html>")


class OpenApiHandler(ApiHandler):
    """``/api/v1/openapi.json``."""

    needs_login = False

    def do_GET(self, _caller: Caller | None) -> Reply:
        return Reply(200, document(self.store.settings().nicknames_enabled))


class DocsHandler(ApiHandler):
    """``/api/v1/docs``: the document as a web page."""

    needs_login = False

    def do_GET(self, _caller: Caller | None) -> Reply:
        return Reply(200, page(document(self.store.settings().nicknames_enabled)), content_type="text/html")
