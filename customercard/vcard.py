"""A contact person as a vCard 4.0 (RFC 6350), for address books and phones.

Lines end in CRLF; text values escape backslash, comma, semicolon and newlines (RFC 6350 §3.4); lines
longer than 75 octets are folded (§3.2) without splitting a UTF-8 character; phone numbers are ``tel:``
URIs (RFC 3966).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import phonenumbers

from .models import Contact

if TYPE_CHECKING:
    from .store import Store

CRLF = "\r\n"
MAX_OCTETS = 75


def escape(text: str) -> str:
    """A text value (or one component of a structured value) with ``\\ , ;`` and newlines escaped."""
    value = (text or "").replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets, continuations starting with a space."""
    parts: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1  # the leading space counts
        current += char
        size += octets
    parts.append(current)
    return (CRLF + " ").join(parts)


def tel_uri(number: str, region: str = "SE") -> str:
    """A phone number as an RFC 3966 ``tel:`` URI (``tel:+46-8-123-45-67``)."""
    try:
        parsed = phonenumbers.parse(number, region or None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.RFC3966)
    compact = re.sub(r"[^0-9+]", "", number)
    return f"tel:{compact}"


def _timestamp(value: dt.datetime | None) -> str:
    moment = value or dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the store keeps naive UTC
    return moment.strftime("%Y%m%dT%H%M%SZ")


def vcard_lines(contact: Contact, organisation: str, region: str = "SE") -> list[str]:
    """The unfolded content lines of a contact person's vCard (``organisation``: the customer's name)."""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{escape(contact.full_name)}",
             f"N:{escape(contact.last_name)};{escape(contact.first_name)};;;"]
    if organisation:
        lines.append(f"ORG:{escape(organisation)}")
    if contact.title:
        lines.append(f"TITLE:{escape(contact.title)}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=work:{escape(contact.email)}")
    if contact.phone:
        lines.append(f"TEL;TYPE=work;VALUE=uri:{tel_uri(contact.phone, region)}")
    if contact.mobile:
        lines.append(f"TEL;TYPE=cell;VALUE=uri:{tel_uri(contact.mobile, region)}")
    if contact.notes:
        lines.append(f"NOTE:{escape(contact.notes)}")
    lines += [f"REV:{_timestamp(contact.updated_at)}", "END:VCARD"]
    return lines


def render(lines: list[str]) -> str:
    """Content lines as vCard text: each folded, each ending in CRLF."""
    return "".join(fold(line) + CRLF for line in lines)


def contact_vcard(store: Store, contact_id: int) -> str:
    """The vCard 4.0 of a contact person, with its customer's name as the organisation."""
    contact = store.get_contact(contact_id)
    customer = store.get_customer(contact.customer_id)
    return render(vcard_lines(contact, customer.name, store.settings().phone_region))


def vcard_filename(contact: Contact) -> str:
    """A file name for the contact's vCard: its name with safe characters only, like ``Anna-Berg.vcf``."""
    words = re.sub(r"[^\w]+", " ", contact.full_name).split()
    stem = "-".join(words)[:80] or f"contact-{contact.id}"
    return f"{stem}.vcf"


__all__ = ["contact_vcard", "escape", "fold", "render", "tel_uri", "vcard_filename", "vcard_lines"]
