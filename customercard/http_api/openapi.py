"""The API's OpenAPI 3.1 document, generated from the model: every field's type, bounds, maximum length, label and
help come from its param parameter (``Parameterized.param.schema()``, JSON Schema) and, for the customer, from the
field registry (:mod:`customercard.fields`). Nothing about a field is written twice: a new field of the model is in
the document the moment it is in the model.

Titles and descriptions are said in the reader's language (built per request); the structure is the same in all.
"""

from __future__ import annotations

import copy
import functools
from http import HTTPStatus
from typing import Any

import param

from .. import __version__
from ..fields import customer_fields
from ..i18n import _
from ..models import (
    EVENT_STATUSES,
    OPPORTUNITY_STATUSES,
    REFERENCE_LENGTH,
    Address,
    Customer,
    CustomerQuery,
    Invoice,
    Record,
    User,
    field_owner,
)
from ..store.customers import LIST_SORTS
from .base import API_PREFIX, MAX_BODY, PROBLEMS, problem_type
from .kinds import KINDS, Kind
from .values import meta_names

REF = "#/components/schemas/"
#: The largest id a path takes.
MAX_ID = 10**18 - 1
#: The largest id a record of a table with 32-bit keys (projects, contacts …) can have.
MAX_RECORD_ID = 2**31 - 1
MAX_PAGE = 1_000_000
SEARCH_LENGTH = 200
TIMESTAMP = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


# -- one parameter as JSON Schema ------------------------------------------------------------------------------
@functools.cache
def _param_schema(kind: type[param.Parameterized], name: str) -> dict[str, Any]:
    return kind.param.schema(subset=[name])[name]


def parameter_schema(kind: type[param.Parameterized], name: str) -> dict[str, Any]:
    """A parameter as JSON Schema: param's own description of it, with the model's text limits, the admin lists'
    values as texts (they change at run time: the model's validation checks them), a selector's values as an enum,
    and the label and help in the reader's language."""
    parameter = kind.param[name]
    schema = copy.deepcopy(_param_schema(kind, name))
    schema.pop("title", None)
    schema.pop("description", None)
    if isinstance(parameter, param.Selector):
        if parameter.check_on_set:
            schema = {"type": "string", "enum": list(parameter.objects)}
        else:
            schema = {"type": ["string", "null"], "maxLength": REFERENCE_LENGTH}
    elif isinstance(parameter, param.Dict):
        schema = {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string", "maxLength": REFERENCE_LENGTH}}}
    limits = (parameter.metadata or {}).get("max_length")
    if limits and isinstance(parameter, param.List):
        schema["items"] = {**schema.get("items", {}), "maxLength": int(limits)}
    elif limits:
        _limit(schema, int(limits))
    if parameter.label:
        schema["title"] = _(parameter.label)
    if parameter.doc:
        schema["description"] = _(parameter.doc)
    return schema


def _limit(schema: dict[str, Any], length: int) -> None:
    if schema.get("type") == "string":
        schema["maxLength"] = length
    for part in schema.get("anyOf", []):
        _limit(part, length)


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, also allowing null (for values read from rows where a text may be missing)."""
    if "$ref" in schema or "anyOf" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return schema if "null" in kinds else {**schema, "type": [*kinds, "null"]}
    if "enum" in schema:
        return {**schema, "type": [kinds, "null"], "enum": [*schema["enum"], None]}
    return {**schema, "type": [kinds, "null"]}


# -- records -----------------------------------------------------------------------------------------------------
def fields_schema(kind: type[Record]) -> dict[str, Any]:
    """The object of a record's fields (dotted for nested records), each from its parameter."""
    properties = {}
    if kind is Customer:
        for found in customer_fields():
            owner, attr = field_owner(Customer, found.name)
            schema = parameter_schema(owner, attr)
            schema["title"] = found.shown_label
            properties[found.name] = schema
    else:
        properties = {name: parameter_schema(kind, name) for name in kind.fields}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def record_schema(kind: type[Record]) -> dict[str, Any]:
    """A record as the API shows it: its other parameters (id, version, stamps), then its fields."""
    meta = {name: parameter_schema(kind, name) for name in meta_names(kind)}
    return {"type": "object", "properties": {**meta, "fields": _ref(f"{kind.__name__}Fields")},
            "required": [*meta, "fields"], "additionalProperties": False}


def write_schema(kind: type[Record], required: bool) -> dict[str, Any]:
    """What a POST (``required``) or PATCH sends: some of the record's fields."""
    schema = {"type": "object", "properties": {"fields": _ref(f"{kind.__name__}Fields")},
              "additionalProperties": False}
    if required:
        schema["required"] = ["fields"]
    return schema


def _columns(pairs: dict[str, tuple[type[param.Parameterized], str]], extra: dict[str, Any] | None = None,
             texts_nullable: bool = True) -> dict[str, Any]:
    """A row of a list: each column described by the parameter it holds."""
    properties = {}
    for column, (kind, name) in pairs.items():
        schema = parameter_schema(kind, name)
        properties[column] = nullable(schema) if texts_nullable else schema
    properties.update(extra or {})
    return {"type": "object", "properties": properties, "required": list(properties)}


def _text(description: str, length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"], "description": description}
    if length:
        schema["maxLength"] = length
    return schema


def _path_of(kind: type[Record]) -> str:
    return next(path for path, found in KINDS.items() if found.model is kind)


def components(nicknames: bool = True) -> dict[str, Any]:
    """Every schema the paths refer to (``nicknames``: whether the firm has nicknames on; off, the API neither
    shows, takes nor sorts by them, and the schemas have none)."""
    schemas: dict[str, Any] = {}
    for kind in (Customer, *(k.model for k in KINDS.values())):
        name = kind.__name__
        schemas[f"{name}Fields"] = fields_schema(kind)
        if kind is Customer and not nicknames:
            schemas[f"{name}Fields"]["properties"].pop("nickname", None)
        schemas[name] = record_schema(kind)
        if kind is not Customer and KINDS[_path_of(kind)].seen:  # in a customer's list: as seen from it
            schemas[name]["properties"]["seen_from"] = {
                "type": "object", "required": ["direction", "label"], "additionalProperties": False,
                "description": _("In a customer's list only: how it is seen from that customer."),
                "properties": {"direction": {"type": "string", "enum": ["out", "in"], "description": _(
                    "out: the customer made it; in: another customer made it to this one.")},
                               "label": _text(_("Its type's name from this customer's side (the inverse name for "
                                                "one another customer made)."))}}
        if kind is Customer or KINDS[_path_of(kind)].create or KINDS[_path_of(kind)].save:
            schemas[f"{name}Write"] = write_schema(kind, required=False)
    nickname = {"nickname": (Customer, "nickname")} if nicknames else {}
    schemas["CustomerListItem"] = _columns(
        {"id": (Customer, "id"), "number": (Customer, "number"), "name": (Customer, "name"),
         **nickname, "status": (Customer, "status"), "industry": (Customer, "industry"),
         "city": (Address, "city"), "country": (Address, "country"), "org_number": (Customer, "org_number"),
         "phone": (Customer, "phone"), "email": (Customer, "email"), "archived": (Customer, "archived")},
        {"account_manager": _text(_("The account manager's name (their login if they are no user).")),
         "match": _text(_("Why it matched q when its own name, nickname or number does not hold the text (e.g. "
                          "contact: Anna Berg, or phone); empty otherwise."))})
    schemas["CustomerList"] = {
        "type": "object", "required": ["items", "total", "page", "per_page"],
        "properties": {"items": {"type": "array", "items": _ref("CustomerListItem")},
                       "total": {"type": "integer", "minimum": 0, "description": _("Customers matching in all.")},
                       "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1}}}
    schemas["SearchHit"] = _columns(
        {"id": (Customer, "id"), "number": (Customer, "number"), "name": (Customer, "name"),
         **nickname, "city": (Address, "city"), "status": (Customer, "status"),
         "archived": (Customer, "archived")},
        {"rank": {"type": "string", "enum": ["exact", "prefix", "contains", "similar"],
                  "description": _("How well it matched: exact, prefix, contains or similar.")},
         "match": _text(_("Why it matched, e.g. nickname, or contact: Anna Berg.")),
         "matched": _text(_("The text that matched."))})
    schemas["HistoryEntry"] = {"type": "object", "required": [
        "change_id", "changed_at", "changed_by", "field", "old_value", "new_value", "kind", "version"], "properties": {
        "change_id": {"type": "integer", "description": _("Give it to restore to put a value of it back.")},
        "changed_at": TIMESTAMP, "changed_by": _text(_("Login of who made the change.")),
        "field": _text(_("The field (dotted; segments.<criterion> for segmentation).")),
        "old_value": _text(_("The value before, as text (null: none).")),
        "new_value": _text(_("The value after, as text (null: none).")),
        "kind": _text(_("create, update, restore, merge …")),
        "version": {"type": ["integer", "null"], "description": _("The version the change made.")}}}
    schemas["Restore"] = {"type": "object", "additionalProperties": False, "properties": {
        "which": {"type": "string", "enum": ["old", "new"], "default": "old",
                  "description": _("old: the value before that change (the default); new: the value it set.")}}}
    schemas["InvoicedYear"] = {"type": "object", "required": ["year", "amount"], "properties": {
        "year": {"type": "integer"},
        "amount": {"type": "number", "description": _("Invoiced that year, net of credit notes, in the firm's "
                                                      "base currency.")}}}
    schemas["InvoiceRow"] = _columns({name: (Invoice, name) for name in (
        "id", "number", "invoice_date", "amount", "currency", "amount_base", "project_id")})
    schemas["Me"] = {"type": "object", "required": ["login", "name", "role", "read_only", "authentication"],
                     "properties": {"login": parameter_schema(User, "login"), "name": parameter_schema(User, "name"),
                                    "email": parameter_schema(User, "email"), "role": parameter_schema(User, "role"),
                                    "language": {"type": "string"},
                                    "read_only": {"type": "boolean", "description": _(
                                        "Whether this request's token only reads.")},
                                    "authentication": {"type": "string", "enum": ["token", "cookie"]}}}
    schemas["Problem"] = {
        "type": "object", "required": ["type", "title", "status", "detail"],
        "description": _("A problem detail (RFC 9457): every error of the API has this shape."),
        "properties": {
            "type": {"type": "string", "format": "uri-reference",
                     "description": _("Where the problem is explained.")},
            "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": _("Each field (or query parameter) that is wrong, with what is wrong.")},
            "conflicts": {"type": "array", "description": _("412: each field someone changed since the version "
                                                            "you named."), "items": {
                "type": "object", "required": ["field", "stored", "attempted", "changed_by", "changed_at"],
                "properties": {"field": {"type": "string"}, "stored": {}, "attempted": {},
                               "changed_by": _text(""), "changed_at": nullable(TIMESTAMP)}}},
            "current_etag": {"type": "string", "description": _("412: the ETag the record has now.")}}}
    return schemas


# -- paths -----------------------------------------------------------------------------------------------------
def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _(PROBLEMS[status][0]),
                                "content": {"application/problem+json": {"schema": _ref("Problem")}}}
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.CONFLICT):
        response["headers"] = {"Retry-After": {"required": True, "description": _("Seconds to wait."),
                                               "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    if status == HTTPStatus.UNAUTHORIZED:
        response["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
    return response


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _etag_header() -> dict[str, Any]:
    return {"ETag": {"required": True, "description": _("The version read: send it back in If-Match to change it."),
                     "schema": {"type": "string", "pattern": '^"v[0-9]+"$'}}}


def _items(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": schema}}}


def _id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": what,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "in": "query", "required": required, "description": description,
                             "schema": schema}
    if schema.get("type") == "array":
        found.update(style="form", explode=True)
    return found


def _if_match() -> dict[str, Any]:
    return {"name": "If-Match", "in": "header", "required": True,
            "description": _("The ETag you read (GET gives it), e.g. \"v3\". Another one is refused with 412 and "
                             "the fields changed since; none with 428."),
            "schema": {"type": "string", "maxLength": 200}}


def _operation(operation_id: str, tag: str, summary: str, responses: dict[Any, Any],
               parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
               writes: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary,
                             "parameters": parameters or []}
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    statuses = [401, 404, 429] + ([400, 403, 409, 412, 413, 415, 422, 428] if writes else [400])
    found["responses"] = {**{str(k): v for k, v in responses.items()},
                          **{str(s): _problem_response(s) for s in sorted(statuses) if str(s) not in responses}}
    return found


def _customer_id() -> dict[str, Any]:
    return _id("customer_id", _("The customer's id (in /card?customer=ID)."))


def customer_paths(nicknames: bool = True) -> dict[str, Any]:
    customer_ok = _json(_ref("Customer"), _("The customer."), _etag_header())
    text = CustomerQuery.param
    list_params = [
        _query("q", {"type": "string", "maxLength": 200}, _(text.text.doc)),
        _query("status", {"type": "array", "items": {"type": "string", "maxLength": REFERENCE_LENGTH}},
               _(text.statuses.doc)),
        _query("industry", {"type": "array", "items": {"type": "string", "maxLength": REFERENCE_LENGTH}},
               _(text.industries.doc)),
        _query("manager", {"type": "array", "items": {"type": "string", "maxLength": REFERENCE_LENGTH}},
               _(text.account_managers.doc)),
        _query("segment", {"type": "array", "items": {"type": "string", "maxLength": 2 * REFERENCE_LENGTH + 1,
                                                       "pattern": "^[^:]+:.+$"}},
               _("Criterion:value (any value of a criterion, every criterion given); seg.<criterion>=<value> as in "
                 "a /search address works too.")),
        _query("city", {"type": "string", "maxLength": 200}, _(text.city.doc)),
        _query("country", {"type": "string", "maxLength": REFERENCE_LENGTH}, _(text.country.doc)),
        _query("archived", {"type": "string", "enum": list(CustomerQuery.ARCHIVED), "default": "active"},
               _(text.archived.doc)),
        _query("sort", {"type": "string", "enum": [s for s in LIST_SORTS if nicknames or s != "nickname"],
                        "default": "name"}, _("The column sorted by.")),
        _query("desc", {"type": "boolean", "default": False}, _("Sort descending.")),
        _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, _("The page, from 1.")),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 25},
               _("Customers per page.")),
    ]
    paging = {"Link": {"required": False, "schema": {"type": "string"},
                       "description": _("first, prev, next and last pages (RFC 8288).")},
              "X-Total-Count": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"},
                                "description": _("Customers matching in all.")}}
    created = {"Location": {"required": True, "schema": {"type": "string"}}, **_etag_header()}
    return {
        f"{API_PREFIX}/customers": {
            "get": _operation("listCustomers", "customers", _("Search customers, with the filters, sorting and "
                                                              "paging of /search"),
                              {200: _json(_ref("CustomerList"), _("A page of customers."), paging)}, list_params),
            "post": _operation("createCustomer", "customers", _("Create a customer (validated; number given)"),
                               {201: _json(_ref("Customer"), _("The new customer."), created)},
                               body=_ref("CustomerWrite"), writes=True),
        },
        f"{API_PREFIX}/customers/search": {
            "get": _operation("searchCustomers", "customers", _("The super search: names, numbers, contacts, "
                                                                "e-mails, phones; best first"),
                              {200: _json(_items(_ref("SearchHit")), _("The hits, best first."))}, [
                                  _query("q", {"type": "string", "minLength": 1, "maxLength": SEARCH_LENGTH},
                                         _("What to look for."), required=True),
                                  _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                                         _("Hits at most.")),
                                  _query("include_archived", {"type": "boolean", "default": True},
                                         _("Whether archived customers are found too."))]),
        },
        f"{API_PREFIX}/customers/{{customer_id}}": {
            "get": _operation("getCustomer", "customers", _("Read a customer"), {200: customer_ok},
                              [_customer_id()]),
            "patch": _operation("updateCustomer", "customers", _("Change some fields of a customer (If-Match)"),
                                {200: customer_ok}, [_customer_id(), _if_match()], _ref("CustomerWrite"),
                                writes=True),
        },
        f"{API_PREFIX}/customers/{{customer_id}}/history": {
            "get": _operation("customerHistory", "history", _("Every change of the customer, newest first"),
                              {200: _json(_items(_ref("HistoryEntry")), _("The changes."))},
                              [_customer_id(), _query("field", {"type": "string", "maxLength": 200},
                                                      _("Only this field's changes: a field of the customer "
                                                        "(dotted: visit_address.city) or segments.<criterion>; "
                                                        "another name is a 400."))]),
        },
        f"{API_PREFIX}/customers/{{customer_id}}/history/{{change_id}}/restore": {
            "post": _operation("restoreValue", "history", _("Put back a past value as a new change (If-Match on "
                                                            "the customer)"),
                               {200: customer_ok}, [_customer_id(), _id("change_id", _("The change's change_id.")),
                                                    _if_match()], _ref("Restore"), writes=True),
        },
        f"{API_PREFIX}/customers/{{customer_id}}/invoiced-per-year": {
            "get": _operation("customerInvoicedPerYear", "invoicing", _("Invoiced per year for the customer"),
                              {200: _json(_items(_ref("InvoicedYear")), _("One row a year, gaps as 0."))},
                              [_customer_id()]),
        },
        f"{API_PREFIX}/customers/{{customer_id}}/invoices": {
            "get": _operation("customerInvoices", "invoicing", _("The customer's invoices and credit notes, newest "
                                                                 "first"),
                              {200: _json(_items(_ref("InvoiceRow")), _("The invoices."))}, [
                                  _customer_id(),
                                  _query("year", {"type": "integer", "minimum": 1, "maximum": 9999},
                                         _("Only the invoices of this year (they add up to its invoiced-per-year "
                                           "row).")),
                                  _query("project", {"type": "integer", "minimum": 0, "maximum": MAX_RECORD_ID},
                                         _("Only the invoices of this project; 0: those on no project."))]),
        },
        f"{API_PREFIX}/invoiced-per-year": {
            "get": _operation("invoicedPerYear", "invoicing", _("Invoiced per year over all customers"),
                              {200: _json(_items(_ref("InvoicedYear")), _("One row a year, gaps as 0."))}),
        },
    }


def _filters(kind: Kind) -> list[dict[str, Any]]:
    if kind.path == "contacts":
        return [_query("include_inactive", {"type": "boolean", "default": False}, _("Inactive ones too."))]
    statuses = {"events": EVENT_STATUSES, "opportunities": OPPORTUNITY_STATUSES}.get(kind.path)
    if statuses:
        return [_query("status", {"type": "string", "enum": list(statuses)}, _("Only those with this status."))]
    return []


def kind_paths(kind: Kind) -> dict[str, Any]:
    name, tag = kind.singular, kind.path
    record_id = _id("record_id", _("Its id."))
    one = _json(_ref(name), _(kind.label), _etag_header() if kind.versioned or kind.remove else None)
    collection: dict[str, Any] = {"get": _operation(
        f"list{name}s", tag, _("The customer's {what}").format(what=_(kind.label).lower()),
        {200: _json(_items(_ref(name)), _("The list."))}, [_customer_id(), *_filters(kind)])}
    if kind.create is not None:
        created = {"Location": {"required": True, "schema": {"type": "string"}}}
        if kind.versioned or kind.remove:
            created.update(_etag_header())
        collection["post"] = _operation(f"create{name}", tag, _("Add one to the customer"),
                                        {201: _json(_ref(name), _("Made."), created)}, [_customer_id()],
                                        _ref(f"{name}Write"), writes=True)
    refused = {403: _problem_response(403)} if kind.withheld else {}  # (without projects access: see .access)
    single: dict[str, Any] = {"get": _operation(f"get{name}", tag, _("Read one"), {200: one, **refused}, [record_id])}
    if kind.save is not None:
        single["patch"] = _operation(f"update{name}", tag, _("Change some of its fields (If-Match)"), {200: one},
                                     [record_id, _if_match()], _ref(f"{name}Write"), writes=True)
    if kind.remove is not None:
        single["delete"] = _operation(f"delete{name}", tag, _("Remove it (If-Match; its history keeps it)"),
                                      {204: {"description": _("Removed.")}}, [record_id, _if_match()], writes=True)
    return {f"{API_PREFIX}/customers/{{customer_id}}/{kind.path}": collection,
            f"{API_PREFIX}/{kind.path}/{{record_id}}": single}


def document(nicknames: bool = True) -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1, in the reader's language; ``nicknames``: whether the firm has them on
    (off, the API neither shows, takes nor sorts by them, and the document names none)."""
    paths = customer_paths(nicknames)
    for kind in KINDS.values():
        paths.update(kind_paths(kind))
    paths[f"{API_PREFIX}/me"] = {"get": _operation("me", "me", _("Who this request acts as"),
                                                   {200: _json(_ref("Me"), _("The user."))})}
    public = {"security": [], "tags": ["documentation"]}
    paths[f"{API_PREFIX}/openapi.json"] = {"get": {
        "operationId": "openapi", "summary": _("This document"), **public,
        "responses": {"200": {"description": _("The OpenAPI document."),
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    paths[f"{API_PREFIX}/docs"] = {"get": {
        "operationId": "docs", "summary": _("This document as a web page"), **public,
        "responses": {"200": {"description": _("The page."),
                              "content": {"text/html": {"schema": {"type": "string"}}}}}}}
    problems = "\n".join(f"- `{problem_type(status)}` ({status}): {_(title)}" for status, (title, _a) in
                         PROBLEMS.items())
    return {
        "openapi": "3.1.0",
        "info": {"title": _("customercard API"), "version": __version__, "description": _(
            "Customers and what the firm knows about them, with the card's rules: permissions by role, validation "
            "with a message per field, a version on every record (ETag; send it back in If-Match to change the "
            "record, 412 when someone changed it meanwhile), every change in the history under the user's name. "
            "Authenticate with Authorization: Bearer and a personal token (made on /profile or with `customercard "
            "tokens create`), or with the browser's login. Bodies are JSON of at most {n} bytes. Errors are problem "
            "details (RFC 9457):").format(n=MAX_BODY) + "\n\n" + problems},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "security": [{"bearerToken": []}, {"loginCookie": []}],
        "paths": paths,
        "components": {
            "schemas": components(nicknames),
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": _(
                    "A personal API token (cc_…), made on /profile or with customercard tokens create.")},
                "loginCookie": {"type": "apiKey", "in": "cookie", "name": "cc_session", "description": _(
                    "The browser's login (with its user cookie); writes only from this server's pages, as JSON.")},
            },
        },
    }
