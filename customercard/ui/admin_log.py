"""The admin log as people read it, in their language.

The store writes each admin change's area, item and values as English words (the log is kept once, for everyone);
:func:`log_row` says them in the reader's language when the log is drawn: areas and fixed words through the
catalogs, the log's few patterns ("added as manager", "anna: role", "account locked for 15 minutes after 10 failed
logins") word by word, settings and user fields by their labels, yes/no for switches. Anything else — a list
value's name, a criterion's values — is the firm's own data and stays as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import param

from .. import formatting
from ..i18n import N_, _, label_said
from ..models import LIST_NAMES, Customer, Settings, User
from .values import shown

#: The areas and fixed words the store writes (see customercard.store.admin, .sessions, .outbox, .privacy).
WORDS = (N_("settings"), N_("Segmentation"), N_("Users"), N_("Economy system"), N_("Privacy"), N_("Logins"),
         N_("added"), N_("changed"), N_("active"), N_("inactive"), N_("anonymised"), N_("logged in"),
         N_("wrong password"), N_("retry"), N_("account"), N_("address"), N_("API tokens"), N_("created"),
         N_("created, read-only"), N_("revoked"), N_("revoked, password reset"), N_("unknown API token"),
         N_("revoked API token"),
         N_("API token of a deactivated user"), N_("Saved views"), N_("Bulk changes"), N_("shared"), N_("deleted"),
         N_("undone"), N_("not linked"), N_("follow-up e-mail"))
#: The patterns the store writes values and items in (English), each said through its own message.
PATTERNS: tuple[tuple[str, Callable[[dict[str, str]], str]], ...] = (
    (r"added as (?P<role>\w+) with projects access",
     lambda m: _("added as {role} with projects access").format(role=_(m["role"]))),
    (r"added as (?P<role>\w+)", lambda m: _("added as {role}").format(role=_(m["role"]))),
    (r"position (?P<n>\d+)", lambda m: _("position {n}").format(n=m["n"])),
    (r"(?P<n>\d+) deliveries", lambda m: _("{n} deliveries").format(n=m["n"])),
    (r"contact (?P<id>\d+)", lambda m: _("contact person {id}").format(id=m["id"])),
    (r"(?P<what>account|address) locked for (?P<minutes>\d+) minutes after (?P<failures>\d+) failed logins",
     lambda m: _("{what} locked for {minutes} minutes after {failures} failed logins").format(
         what=_(m["what"]), minutes=m["minutes"], failures=m["failures"])),
    (r"(?P<what>account|address) locked for (?P<minutes>\d+) minutes after (?P<failures>\d+) failed API token checks",
     lambda m: _("{what} locked for {minutes} minutes after {failures} failed API token checks").format(
         what=_(m["what"]), minutes=m["minutes"], failures=m["failures"])),
    (r"(?P<login>\S+) from (?P<address>\S+)", lambda m: _("{login} from {address}").format(**m)),
    (r"#(?P<n>\d+) (?P<field>[\w.-]+)", lambda m: f"#{m['n']} {_bulk_field(m['field'])}"),  # a bulk change
    (r"customer (?P<number>\d+) (?P<name>.+)",  # a customer linked to the economy system, or unlinked
     lambda m: _("customer {number} {name}").format(number=m["number"], name=m["name"])),
)


def _bulk_field(field: str) -> str:
    """The field a bulk change changed, as the card names it ('segments.Size' is 'Segmentation: Size')."""
    if field.startswith("segments."):
        return f"{_('Segmentation')}: {field.split('.', 1)[1]}"
    if field == "comment":
        return _("Comment")
    return _field_label(Customer, field)


def _field_label(record: type, name: str) -> str:
    parameter = record.param[name] if name in record.param else None  # noqa: SIM401 - param has no .get
    return _(parameter.label) if parameter is not None and parameter.label else name


def said(text: str | None, area: str = "") -> str:  # noqa: PLR0911 - one return per kind of log text
    """A word or pattern of the log in the reader's language; other text as it is."""
    if not isinstance(text, str):  # None, or a missing value (NaN) from the frame
        return ""
    if area == "settings" and text in Settings.param:
        return _field_label(Settings, text)
    if text in ("true", "false"):
        return _("Yes") if text == "true" else _("No")
    if text.startswith("[") and text.endswith("]"):  # a list of values (a segmentation's), as history keeps it
        try:
            values = json.loads(text)
        except ValueError:
            values = None
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            return ", ".join(values)
    if text in WORDS or text in LIST_NAMES.values():
        return _(text)
    if area == "Users":
        match = re.fullmatch(r"(?P<login>[^:]+): (?P<field>\w+)", text)
        if match and (match["field"] in User.param or match["field"] == "password"):
            label = _("Password") if match["field"] == "password" else _field_label(User, match["field"])
            return f"{match['login']}: {label}"
        match = re.fullmatch(r"(?P<login>[^:]+): follow-up e-mail", text)
        if match:  # the daily e-mail of someone's follow-ups, turned on or off by an administrator
            return f"{match['login']}: {_('follow-up e-mail')}"
    for pattern, say in PATTERNS:
        match = re.fullmatch(pattern, text)
        if match:
            return say(match.groupdict())
    return text


def setting_said(name: str, text: str | None) -> str:
    """A setting's value as the settings form shows it: its choice's label ('ingen' for none, 'Svenska' for sv),
    a number as the reader's language writes it (12,5), yes or no."""
    if not isinstance(text, str):
        return ""
    parameter = Settings.param[name]
    metadata = parameter.metadata or {}
    if metadata.get("value_labels"):
        label = metadata["value_labels"].get(text)
        return label_said(label) if label else text
    if metadata.get("translate_values"):
        return _(text)
    if isinstance(parameter, param.Number) and not isinstance(parameter, param.Boolean):
        try:
            return formatting.figure(float(text))
        except ValueError:
            return text
    return shown(Settings, name, text) if not isinstance(parameter, param.String) else said(text)


def criterion_said(text: str | None) -> str:
    """A segmentation criterion as the log keeps it (JSON: name, values, one or several, active) in words."""
    if not isinstance(text, str):
        return ""
    try:
        kept = json.loads(text)
    except ValueError:
        return text
    if not isinstance(kept, dict):
        return said(text)
    parts = [str(kept.get("name", ""))]
    values = kept.get("values")
    if isinstance(values, list):
        parts.append(_("values: {values}").format(values=", ".join(map(str, values)) or "–"))
    if "multiple" in kept:
        parts.append(_("several values") if kept["multiple"] else _("one value"))
    if "active" in kept:
        parts.append(_("active") if kept["active"] else _("inactive"))
    return "; ".join(part for part in parts if part)


def log_row(area: str, item: str, old: str | None, new: str | None) -> tuple[str, str, str, str]:
    """(area, item, old value, new value) of an admin log row, as the reader reads them (the area capitalised, as
    the others are: the settings' is written 'settings')."""
    shown_area, *rest = _log_row(area, item, old, new)
    return (shown_area[:1].upper() + shown_area[1:], *rest)


def _log_row(area: str, item: str, old: str | None, new: str | None) -> tuple[str, str, str, str]:
    value_area = "Users" if area == "Users" else ""
    if area == "Users" and item.endswith(": role"):
        return said(area), said(item, area), _(old) if old else "", _(new) if new else ""
    if area == "Users" and item.endswith(": language"):  # its name ('Dansk'), none: as the browser asks
        labels = User.param.language.metadata["value_labels"]
        return said(area), said(item, area), *(label_said(labels.get(text or "", text)) for text in (old, new))
    if area == "settings" and item in Settings.param:
        return said(area), said(item, area), setting_said(item, old), setting_said(item, new)
    if area == "Segmentation":
        return said(area), said(item, area), criterion_said(old), criterion_said(new)
    return said(area), said(item, area), said(old, value_area), said(new, value_area)
