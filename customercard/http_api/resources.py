"""The resources of ``/api/v1``: customers (list, search, read, create, change), their history (with restore),
invoicing, and the records beside them (contacts, comments, events, opportunities, relations, projects).

Each handler reads and writes through the store, with the same rules as the card: the store checks permissions,
validates through the model, checks versions and writes the history under the caller's login. Here the request is
read (its JSON, its ``If-Match``) and the answer written (the record, its ``ETag``).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from ..fields import customer_field_names
from ..i18n import N_, _, quote
from ..models import CRITERIA_RENAMED, EVENT_STATUSES, OPPORTUNITY_STATUSES, CustomerQuery, Invoice, Record
from ..store.customers import LIST_SORTS
from ..validators import COUNTRIES, check_country
from .access import has_projects_access, require_projects_access
from .base import API_PREFIX, ApiError, ApiHandler, Caller, Reply
from .kinds import KINDS, Kind, as_parameters
from .openapi import MAX_PAGE, MAX_RECORD_ID, SEARCH_LENGTH
from .values import apply_fields, etag, record_json, to_json

SEGMENT_PREFIX = "seg."
#: The longest field name a history query takes (as its message says).
FIELD_NAME_LENGTH = 200
#: What a customer's history names besides its fields and ``segments.<criterion>``: the economy system's link, and
#: the customers a merge took in or the one it went into.
HISTORY_ONLY_FIELDS = frozenset({"erp_system", "erp_customer_id", "merged_from", "merged_into"})


def _unknown_filter_values(store: Any, query: CustomerQuery) -> dict[str, str]:
    """{query parameter: what is wrong} for each status, industry, manager or segment that names nothing the firm
    has — inactive values and a value's or a criterion's former names (a bookmark, a saved view) are known."""
    choices = store.choices()
    errors: dict[str, str] = {}
    for parameter, labels, list_name, said in (
            ("status", query.statuses, "statuses", N_("“{value}” is no status here; the statuses are: {values}.")),
            ("industry", query.industries, "industries",
             N_("“{value}” is no industry here; the industries are: {values}."))):
        if not labels:
            continue
        values = store.list_values(list_name)
        known = set(values["label"]) | set(choices.renamed.get(list_name, {}))
        wrong = [label for label in labels if label not in known]
        if wrong:
            errors[parameter] = _(said).format(value=wrong[0], values=", ".join(values.loc[values["active"], "label"]))
    if query.country.strip():  # a code or a name; anything else would find nobody
        try:
            check_country(query.country, COUNTRIES)
        except ValueError as exc:
            errors["country"] = str(exc)
    managers = [login for login in query.account_managers if login not in set(choices.users)]
    if managers:
        errors["manager"] = _("“{login}” is no user's login here.").format(login=managers[0])
    value_ids = store.criterion_value_ids()
    criteria = {name for name, _label in value_ids}
    for criterion, chosen in (query.segments or {}).items():
        now = choices.named_now(CRITERIA_RENAMED, criterion)
        if now not in criteria:
            errors["segment"] = _("“{criterion}” is no segmentation criterion here; the criteria are: {names}.").format(
                criterion=criterion, names=", ".join(c.name for c in store.criteria()))
            break
        wrong = [value for value in chosen if (now, value) not in value_ids]
        if wrong:
            errors["segment"] = _("“{value}” is no value of “{criterion}”; its values are: {values}.").format(
                value=wrong[0], criterion=now, values=", ".join(
                    next((c.values for c in store.criteria() if c.name == now), [])))
            break
    return errors

def _rows(frame: Any, model: type[Record] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as JSON objects; with ``model``, each column that is one of its parameters as that parameter
    holds it (a date as a date)."""
    rows = frame.astype(object).to_dict("records")
    if model is not None:
        rows = [{**row, **as_parameters(row, model)} for row in rows]
    return [{name: to_json(value) for name, value in row.items()} for row in rows]


def _items(items: list[Any]) -> dict[str, Any]:
    return {"items": items}


def _invalid(errors: dict[str, str]) -> ApiError:
    return ApiError(422, _("Nothing was saved: correct the fields named in errors."), errors=errors)


# -- customers ---------------------------------------------------------------------------------------------------
class CustomersHandler(ApiHandler):
    """``/api/v1/customers``: GET a page of a search (the filters of /search), POST a new customer."""

    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {
        "GET": ("q", "status", "industry", "manager", "segment", "city", "country", "archived", "sort", "desc", "page",
                "per_page")}
    query_prefix = SEGMENT_PREFIX

    def do_GET(self, _caller: Caller) -> Reply:
        query = self._query()
        nicknames = self.store.settings().nicknames_enabled  # switched off: not shown, sorted by or found
        sort = self.choice_arg("sort", tuple(s for s in LIST_SORTS if nicknames or s != "nickname"), "name")
        descending = self.bool_arg("desc")
        page = self.int_arg("page", 1, 1, MAX_PAGE)
        per_page = self.int_arg("per_page", 25, 1, 200)
        frame, total = self.store.find_customers(query, limit=per_page, offset=(page - 1) * per_page, sort=sort,
                                                 descending=descending)
        last = max(1, -(-total // per_page))
        links = {"first": 1, "last": last, **({"prev": min(page - 1, last)} if page > 1 else {}),
                 **({"next": page + 1} if page < last else {})}
        headers = {"X-Total-Count": str(total),
                   "Link": ", ".join(f'<{self._page_url(number, per_page)}>; rel="{rel}"'
                                     for rel, number in links.items())}
        if not nicknames:
            frame = frame.drop(columns=["nickname"], errors="ignore")
        return Reply(200, {"items": _rows(frame), "total": total, "page": page, "per_page": per_page}, headers)

    def _query(self) -> CustomerQuery:
        segments: dict[str, list[str]] = {}
        for item in self.args("segment"):
            criterion, colon, value = item.partition(":")
            if not colon or not criterion or not value:
                raise ApiError(400, _("Give segment as criterion:value."), errors={"segment": _("criterion:value")})
            segments.setdefault(criterion, []).append(value)
        for name in self.request.query_arguments:
            if name.startswith(SEGMENT_PREFIX) and len(name) > len(SEGMENT_PREFIX):
                segments.setdefault(name[len(SEGMENT_PREFIX):], []).extend(self.args(name))
        query = CustomerQuery(text=self.arg("q"), statuses=self.args("status"), industries=self.args("industry"),
                              account_managers=self.args("manager"), city=self.arg("city"),
                              country=self.arg("country"), segments=segments,
                              archived=self.choice_arg("archived", CustomerQuery.ARCHIVED, "active"))
        errors = query.validate()
        if errors:
            names = {"text": "q", "statuses": "status", "industries": "industry", "account_managers": "manager",
                     "segments": "segment"}
            raise ApiError(400, _("Some query parameters are wrong: see errors."),
                           errors={names.get(k, k): v for k, v in errors.items()})
        unknown = _unknown_filter_values(self.store, query)
        if unknown:  # a misspelt value would find nobody: said, not answered with an empty page
            raise ApiError(400, _("Some query parameters are wrong: see errors."), errors=unknown)
        return query

    def _page_url(self, page: int, per_page: int) -> str:
        pairs = [(k, v.decode("utf-8", "replace")) for k, values in self.request.query_arguments.items()
                 if k not in ("page", "per_page") for v in values]
        return f"{API_PREFIX}/customers?" + urlencode([*pairs, ("page", str(page)), ("per_page", str(per_page))])

    def do_POST(self, caller: Caller) -> Reply:
        login = self.may_write(caller)
        fields = self.fields_of(self.json_body())
        customer = self.store.new_customer()
        errors = apply_fields(customer, fields)
        if errors:
            raise _invalid({**customer.validate(self.store.choices()), **errors})
        created = self.store.create_customer(customer, user=login)
        return Reply(201, self.customer_json(created), {"Location": f"{API_PREFIX}/customers/{created.id}",
                                                        "ETag": etag(created.version)})


class CustomerSearchHandler(ApiHandler):
    """``/api/v1/customers/search?q=…``: the super search."""

    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {"GET": ("q", "limit", "include_archived")}

    def do_GET(self, _caller: Caller) -> Reply:
        text = self.arg("q")
        if not text or len(text) > SEARCH_LENGTH:
            raise ApiError(400, _("Give q, what to look for, in 1 to {n} characters.").format(n=SEARCH_LENGTH),
                           errors={"q": _("1 to {n} characters.").format(n=SEARCH_LENGTH)})
        limit = self.int_arg("limit", 20, 1, 100)
        hits = self.store.search(text, limit=limit, include_archived=self.bool_arg("include_archived", True))
        if not self.store.settings().nicknames_enabled:  # switched off: not shown (nor found), as in the list
            hits = hits.drop(columns=["nickname"], errors="ignore")
        return Reply(200, _items(_rows(hits)))


class CustomerHandler(ApiHandler):
    """``/api/v1/customers/<id>``: GET with its ETag, PATCH some fields with If-Match."""

    def do_GET(self, _caller: Caller, customer_id: str) -> Reply:
        customer = self.store.get_customer(self.id_arg(customer_id))
        return Reply(200, self.customer_json(customer), {"ETag": etag(customer.version)})

    def do_PATCH(self, caller: Caller, customer_id: str) -> Reply:
        login = self.may_write(caller)
        fields = self.fields_of(self.json_body())
        number = self.id_arg(customer_id)
        customer = self.store.get_customer(number)
        if customer.merged_into:  # merged away (even after the ETag was read): the store refuses, saying where
            self.store.save_customer(customer, user=login)
        self.check_if_match(customer, customer.version, self.store.history(number), fields)
        errors = apply_fields(customer, fields)
        if errors:
            raise _invalid({**customer.validate(self.store.choices(), previous=self.store.get_customer(number)),
                            **errors})
        saved = self.store.save_customer(customer, user=login)
        return Reply(200, self.customer_json(saved), {"ETag": etag(saved.version)})


class HistoryHandler(ApiHandler):
    """``/api/v1/customers/<id>/history``: every change, newest first."""

    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {"GET": ("field",)}

    def do_GET(self, _caller: Caller, customer_id: str) -> Reply:
        number = self.existing_customer(customer_id)
        field = self.arg("field")
        if len(field) > FIELD_NAME_LENGTH:
            raise ApiError(400, _("Give field in at most 200 characters."), errors={"field": _("Too long.")})
        frame = self.store.history(number, field=field or None)
        if field and frame.empty and not self._a_history_field(field):  # (a misspelt name is no empty history)
            raise ApiError(400, _("No field is named {field}: give a field of the customer (name, "
                                  "visit_address.city …) or segments.<criterion>.").format(field=quote(field)),
                           errors={"field": _("No such field.")})
        return Reply(200, _items(_rows(frame[["change_id", "changed_at", "changed_by", "field", "old_value",
                                               "new_value", "kind", "version"]])))

    def _a_history_field(self, name: str) -> bool:
        """Whether a customer's history may name this field: one of the customer's, or a criterion of the firm's
        (switched off too). A criterion removed or renamed since is found while its changes are in this customer's
        history (the frame is not empty then); with none, its old name is no field."""
        if name in customer_field_names() or name in HISTORY_ONLY_FIELDS:
            return True
        head, dot, criterion = name.partition(".")
        return head == "segments" and bool(dot) and criterion in {
            c.name for c in self.store.criteria(include_inactive=True)}


class RestoreHandler(ApiHandler):
    """``/api/v1/customers/<id>/history/<change>/restore``: put a past value back, as a new change."""

    def do_POST(self, caller: Caller, customer_id: str, change_id: str) -> Reply:
        login = self.may_write(caller)
        body = self.json_body(required=False)
        unknown = {name: _("Not part of this request.") for name in body if name != "which"}
        which = body.get("which", "old")
        if which not in ("old", "new"):
            unknown["which"] = _("Give old or new.")
        if unknown:
            raise _invalid(unknown)
        number = self.id_arg(customer_id)
        customer = self.store.get_customer(number)
        self.check_if_match(customer, customer.version, self.store.history(number), {})
        saved = self.store.restore(number, self.id_arg(change_id), which=which, user=login,
                                   expected_version=customer.version)
        return Reply(200, self.customer_json(saved), {"ETag": etag(saved.version)})


class CustomerInvoicedHandler(ApiHandler):
    """``/api/v1/customers/<id>/invoiced-per-year``."""

    def do_GET(self, _caller: Caller, customer_id: str) -> Reply:
        return Reply(200, _items(_rows(self.store.invoiced_per_year(self.existing_customer(customer_id)))))


class InvoicesHandler(ApiHandler):
    """``/api/v1/customers/<id>/invoices``: all, or of one ``year`` and of one ``project`` (0: those on no
    project), as ``store.invoices`` gives them (a year's add up to its bar in invoiced-per-year)."""

    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {"GET": ("year", "project")}

    def do_GET(self, _caller: Caller, customer_id: str) -> Reply:
        year = self.int_arg("year", 0, 1, 9999) if self.arg("year", "") else None
        project = self.int_arg("project", 0, 0, MAX_RECORD_ID) if self.arg("project", "") else None
        frame = self.store.invoices(self.existing_customer(customer_id), year=year, project=project)
        return Reply(200, _items(_rows(frame[["id", "number", "invoice_date", "amount", "currency", "amount_base",
                                              "project_id"]], Invoice)))


class InvoicedHandler(ApiHandler):
    """``/api/v1/invoiced-per-year``: over all customers."""

    def do_GET(self, _caller: Caller) -> Reply:
        return Reply(200, _items(_rows(self.store.invoiced_per_year())))


class MeHandler(ApiHandler):
    """``/api/v1/me``: who the request acts as."""

    def do_GET(self, caller: Caller) -> Reply:
        user = caller.user
        return Reply(200, {"login": user.login, "name": user.name, "email": user.email, "role": user.role,
                           "language": user.language, "read_only": caller.read_only,
                           "authentication": "token" if caller.by_token else "cookie"})


# -- the records beside customers ---------------------------------------------------------------------------------
#: The records of the CRM module: without it (a firm-wide setting) they are not there at all.
CRM_KINDS = frozenset({"events", "opportunities", "relations"})


class KindHandler(ApiHandler):
    kind: Kind

    def check_available(self) -> None:
        if self.kind.path in CRM_KINDS and not self.store.settings().crm_enabled:
            raise ApiError(404, _("The CRM module is switched off (System administration → Customers → "
                                  "Settings)."))

    def _version(self, record: Any) -> int:
        return int(getattr(record, "version", None) or 1)

    def _etag_headers(self, record: Any) -> dict[str, str]:
        return {"ETag": etag(self._version(record))} if self.kind.versioned or self.kind.remove else {}


class CustomerRecordsHandler(KindHandler):
    """``/api/v1/customers/<id>/<records>``: GET the customer's, POST a new one."""

    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {"GET": ("include_inactive", "status")}

    def do_GET(self, caller: Caller, customer_id: str) -> Reply:
        number = self.existing_customer(customer_id)
        args: dict[str, Any] = {}
        taken = ("include_inactive",) if self.kind.path == "contacts" else ("status",) if self.kind.path in (
            "events", "opportunities") else ()
        if any(name not in taken for name in self.request.query_arguments):
            raise ApiError(400, _("Some query parameters are wrong: see errors."), errors={
                name: _("Not a parameter of this request.") for name in self.request.query_arguments
                if name not in taken})
        if self.kind.path == "contacts":
            args["include_inactive"] = self.bool_arg("include_inactive")
        statuses = {"events": EVENT_STATUSES, "opportunities": OPPORTUNITY_STATUSES}.get(self.kind.path)
        if statuses and self.arg("status"):
            args["status"] = self.choice_arg("status", statuses, "")
        records = self.kind.of_customer(self.store, number, args)
        seen = self.kind.seen(self.store, number) if self.kind.seen and records else {}
        withheld = self.kind.withheld if self.kind.withheld and records and not has_projects_access(
            self.store, caller.user.login) else ()
        items = []
        for record in records:
            item = {**record_json(record), **({"seen_from": seen[record.id]} if record.id in seen else {})}
            for name in withheld:  # (as the card lists them: the project page's detail is for projects access)
                item["fields"].pop(name, None)
            items.append(item)
        return Reply(200, _items(items))


#: The fields of a new record the store fills when they are not given (the writer, today).
FILLED_BY_THE_STORE = ("author", "written_on")


class CustomerRecordsMaker(KindHandler):
    """POST on ``/api/v1/customers/<id>/<records>``: a new record of the customer."""

    def do_POST(self, caller: Caller, customer_id: str) -> Reply:
        login = self.may_write(caller)
        fields = self.fields_of(self.json_body())
        number = self.existing_customer(customer_id)
        record = self.kind.new(self.store, number)
        errors = apply_fields(record, fields)
        if errors:
            if "owner" in record.param and not record.owner:  # as the store would: the caller's, unless given
                record.owner = login
            invalid = record.validate(self.store.choices())
            for name in FILLED_BY_THE_STORE:  # not given: the store fills it (a comment's author, its day), not wrong
                if name in record.param and not (isinstance(fields, dict) and name in fields):
                    invalid.pop(name, None)
            raise _invalid({**invalid, **errors})
        created = self.kind.get(self.store, self.kind.create(self.store, record, login).id)
        return Reply(201, record_json(created), {"Location": f"{API_PREFIX}/{self.kind.path}/{created.id}",
                                                 **self._etag_headers(created)})


class RecordHandler(KindHandler):
    """``/api/v1/<records>/<id>``: GET one (with its ETag), PATCH some fields or DELETE it, with If-Match."""

    def do_GET(self, caller: Caller, record_id: str) -> Reply:
        number = self.id_arg(record_id)
        if self.kind.withheld:  # the whole record, as its page shows it: for projects access only
            require_projects_access(self.store, caller.user.login)
        record = self.kind.get(self.store, number)
        return Reply(200, record_json(record), self._etag_headers(record))

    def do_PATCH(self, caller: Caller, record_id: str) -> Reply:
        if self.kind.save is None:
            raise self._not_allowed()
        login = self.may_write(caller)
        fields = self.fields_of(self.json_body())
        number = self.id_arg(record_id)
        record = self.kind.get(self.store, number)
        self.check_if_match(record, self._version(record), self.store.record_history(self.kind.table, number), fields)
        errors = apply_fields(record, fields)
        if errors:
            raise _invalid({**record.validate(self.store.choices(), previous=self.kind.get(self.store, number)),
                            **errors})
        saved = self.kind.get(self.store, self.kind.save(self.store, record, login).id)
        return Reply(200, record_json(saved), self._etag_headers(saved))

    def do_DELETE(self, caller: Caller, record_id: str) -> Reply:
        if self.kind.remove is None:
            raise self._not_allowed()
        login = self.may_write(caller)
        number = self.id_arg(record_id)
        record = self.kind.get(self.store, number)
        self.check_if_match(record, self._version(record), None, {})
        self.kind.remove(self.store, number, login)
        return Reply(204)

    def _not_allowed(self) -> ApiError:
        return ApiError(405, _("{what} cannot be changed here.").format(what=_(self.kind.label)),
                        {"Allow": ", ".join(self.allowed_methods())})

    def allowed_methods(self) -> list[str]:
        return ["GET"] + (["PATCH"] if self.kind.save else []) + (["DELETE"] if self.kind.remove else [])


def kind_handlers(kind: Kind) -> list[tuple[str, type]]:
    """The two handlers of a kind of record: the customer's collection and one record."""
    bases = (CustomerRecordsHandler, CustomerRecordsMaker) if kind.create else (CustomerRecordsHandler,)
    collection = type(f"{kind.singular}sOfCustomer", bases, {"kind": kind})
    single = type(f"{kind.singular}Resource", (RecordHandler,), {"kind": kind})
    return [(rf"{API_PREFIX}/customers/(\d+)/{kind.path}", collection), (rf"{API_PREFIX}/{kind.path}/(\d+)", single)]


def handlers() -> list[tuple[str, type]]:
    """Every route of /api/v1 (path pattern, handler class), the documentation's included."""
    from .base import refuse_unknown_path
    from .docs import DocsHandler, OpenApiHandler

    routes: list[tuple[str, type]] = [
        (rf"{API_PREFIX}/openapi\.json", OpenApiHandler), (rf"{API_PREFIX}/docs/?", DocsHandler),
        (rf"{API_PREFIX}/me", MeHandler), (rf"{API_PREFIX}/customers", CustomersHandler),
        (rf"{API_PREFIX}/customers/search", CustomerSearchHandler), (rf"{API_PREFIX}/customers/(\d+)", CustomerHandler),
        (rf"{API_PREFIX}/customers/(\d+)/history", HistoryHandler),
        (rf"{API_PREFIX}/customers/(\d+)/history/(\d+)/restore", RestoreHandler),
        (rf"{API_PREFIX}/customers/(\d+)/invoiced-per-year", CustomerInvoicedHandler),
        (rf"{API_PREFIX}/customers/(\d+)/invoices", InvoicesHandler),
        (rf"{API_PREFIX}/invoiced-per-year", InvoicedHandler),
    ]
    for kind in KINDS.values():
        routes += kind_handlers(kind)
    routes.append((rf"{API_PREFIX}(/.*)?", refuse_unknown_path()))
    return routes
