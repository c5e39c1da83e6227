"""Field checks shared by every entry point (model, UI, importer, API).

Each ``check_*`` function takes the raw text and returns the normalised value; it raises
``ValueError`` with a message a person understands when the value is not acceptable.
Empty values are the caller's business (most fields are optional).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Callable

import email_validator
import idna
import phonenumbers
from babel import Locale

from . import formatting
from .i18n import LANGUAGES, N_, _, quote

#: The firm's usual countries: those with rules of their own for organisation, VAT and postal numbers (every other
#: country's are checked by the general rules), offered first where a country is chosen.
SUPPORTED_COUNTRIES = ("SE", "DK", "NO", "FI", "DE", "GB")
#: Codes Babel (CLDR) names as territories that are no ISO 3166-1 country: reserved ones (Ascension, Clipperton,
#: Sark, Diego Garcia, Ceuta & Melilla, Canary Islands, Tristan da Cunha), groups (EU, eurozone, UN, outlying
#: Oceania), pseudo-locales and "unknown region". (Kosovo's XK, in common use, is kept.)
NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "IC", "TA", "EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
#: Every country a customer can be in: the ISO 3166-1 alpha-2 codes (as Babel knows them).
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if re.fullmatch(r"[A-Z]{2}", code) and code not in NOT_COUNTRIES)
#: The countries with a numbering plan (a phone region among them reads national numbers; Antarctica has none).
PHONE_COUNTRIES = COUNTRIES & frozenset(phonenumbers.SUPPORTED_REGIONS)
#: Digits of a Swedish organisation number, and of one written with the century first (16, 19 or 20).
SE_ORG_DIGITS, SE_ORG_CENTURY_DIGITS = 10, 12
#: Digits of a Danish CVR number, a Norwegian organisation number and a Finnish business ID (Y-tunnus).
DK_CVR_DIGITS, NO_ORG_DIGITS, FI_YTUNNUS_DIGITS = 8, 9, 8
#: Digits of a GLN (EAN location number).
GLN_DIGITS = 13


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def country_options(language: str | None = None) -> dict[str, str]:
    """The countries to choose from, as ``{name in the reader's language: code}``: the firm's usual countries
    (:data:`SUPPORTED_COUNTRIES`) first, then every other by name."""
    usual = {formatting.country(code, language): code for code in SUPPORTED_COUNTRIES}
    others = sorted(((formatting.country(code, language), code) for code in COUNTRIES - set(SUPPORTED_COUNTRIES)),
                    key=lambda pair: pair[0].casefold())
    return usual | dict(others)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by Swedish organisation numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = sum(divmod(value * 2, 10))  # the doubled digit's digit sum (18 → 9)
        total += value
    return total % 10 == 0


def _mod11_ok(digits: str, weights: tuple[int, ...]) -> bool:
    body, check = digits[:-1], int(digits[-1])
    remainder = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    expected = 0 if remainder == 0 else 11 - remainder
    return expected == check  # a remainder of 1 asks for 10: no digit matches, the number is invalid


def _dk_cvr_ok(digits: str) -> bool:
    weights = (2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def _fi_ytunnus_ok(digits: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2)
    remainder = sum(int(d) * w for d, w in zip(digits[:7], weights, strict=True)) % 11
    if remainder == 1:
        return False
    expected = 0 if remainder == 0 else 11 - remainder
    return expected == int(digits[7])


def _de_vat_ok(digits: str) -> bool:
    """ISO 7064 MOD 11,10 check digit of a German USt-IdNr."""
    product = 10
    for char in digits[:8]:
        total = (int(char) + product) % 10
        if total == 0:
            total = 10
        product = (2 * total) % 11
    check = (11 - product) % 10  # 11 - product, where 10 is written 0 (product is never 0: 1 to 10)
    return check == int(digits[8])


def _checked_digits(digits: str, shape_ok: bool, shape: str, check_ok: Callable[[str], bool], wrong_check: str) -> str:
    """The digits of a number that has its country's shape and a right check digit; else a ValueError saying which
    is wrong (``shape``: what the number looks like; ``wrong_check``: that its check digit is wrong)."""
    if not shape_ok:
        raise ValueError(shape)
    if not check_ok(digits):
        raise ValueError(wrong_check)
    return digits


#: How a Swedish organisation number is written: digits, spaces and a dash (or an en dash, as typeset text has).
_SE_ORG_TEXT = re.compile(r"[\d\s\-\u2010-\u2013\u2212]+")
#: How a Norwegian one is: digits grouped by spaces or dots, perhaps NO before and MVA after (its VAT form).
_NO_ORG_TEXT = re.compile(r"(NO)?[\d\s.]+(MVA)?")


def _se_number_exists(digits: str) -> bool:
    """Whether 10 digits can be a Swedish organisation number at all: its first six are a legal person's group
    and number, or a sole trader's birth date, never six zeros. (The finer rule, a legal person's third and fourth
    digits 20 or more and a sole trader's a month, is not asked: numbers already kept, and the demo's, do not all
    keep it.)"""
    return digits[:6] != "000000"


def _org_se(text: str) -> str:
    digits = _digits(text)
    if len(digits) == SE_ORG_CENTURY_DIGITS and digits[:2] in ("16", "19", "20"):
        digits = digits[2:]
    digits = _checked_digits(digits, len(digits) == SE_ORG_DIGITS and bool(_SE_ORG_TEXT.fullmatch(text)),
                             _("A Swedish organisation number has 10 digits, like 556677-8899."), luhn_ok,
                             _("This Swedish organisation number has a wrong check digit."))
    if not _se_number_exists(digits):
        raise ValueError(_("This is not a Swedish organisation number: check the digits."))
    return f"{digits[:6]}-{digits[6:]}"


def _org_dk(text: str) -> str:
    digits = _digits(text)
    return _checked_digits(digits, len(digits) == DK_CVR_DIGITS and bool(re.fullmatch(r"(DK)?[\d ]+", text)),
                           _("A Danish CVR number has 8 digits, like 12345674."), _dk_cvr_ok,
                           _("This Danish CVR number has a wrong check digit."))


def _org_no(text: str) -> str:
    digits = _digits(text)
    digits = _checked_digits(digits, len(digits) == NO_ORG_DIGITS and bool(_NO_ORG_TEXT.fullmatch(text)),
                             _("A Norwegian organisation number has 9 digits, like 923 609 016."),
                             lambda d: _mod11_ok(d, (3, 2, 7, 6, 5, 4, 3, 2)),
                             _("This Norwegian organisation number has a wrong check digit."))
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def _org_fi(text: str) -> str:
    digits = _digits(text)
    digits = _checked_digits(digits, len(digits) == FI_YTUNNUS_DIGITS and bool(re.fullmatch(r"\d{7}-?\d", text)),
                             _("A Finnish business ID (Y-tunnus) looks like 1234567-8."), _fi_ytunnus_ok,
                             _("This Finnish business ID has a wrong check digit."))
    return f"{digits[:7]}-{digits[7]}"


def _org_de(text: str) -> str:
    match = re.fullmatch(r"(HRA|HRB|GNR|PR|VR|GSR)\s*(\d{1,6})\s*([A-Z]{1,2})?", text)
    if not match:
        raise ValueError(_("A German register number looks like HRB 12345 (HRA, HRB, GnR, PR or VR)."))
    kind, number, suffix = match.groups()
    kind = "GnR" if kind == "GNR" else kind
    return f"{kind} {number}" + (f" {suffix}" if suffix else "")


def _org_gb(text: str) -> str:
    compact = re.sub(r"\s", "", text)
    if not re.fullmatch(r"(\d{8}|(SC|NI|OC|SO|NC|LP|SL|NL|R0|IP|SP|RS|SE|ES)\d{6})", compact):
        raise ValueError(_("A UK company number has 8 characters, like 01234567 or SC123456."))
    return compact


def _org_other(text: str) -> str:
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9 ./-]{1,29}", text):
        raise ValueError(_("An organisation number has 2–30 letters, digits, spaces, dots, dashes or slashes."))
    return text


#: Each supported country's organisation number check: the upper-cased text → the normalised number.
_ORG_NUMBER_CHECKS: dict[str, Callable[[str], str]] = {
    "SE": _org_se, "DK": _org_dk, "NO": _org_no, "FI": _org_fi, "DE": _org_de, "GB": _org_gb}


def check_org_number(value: str, country: str) -> str:
    """Check an organisation (company registration) number's shape for the customer's country."""
    text = value.strip().upper()
    return _ORG_NUMBER_CHECKS.get(country, _org_other)(text)


def _vat_se(body: str) -> bool:
    return bool(re.fullmatch(r"\d{10}01", body)) and luhn_ok(body[:10])


def _vat_fi(body: str) -> bool:
    return bool(re.fullmatch(r"\d{8}", body)) and _fi_ytunnus_ok(body)


def _vat_no(body: str) -> bool:
    return bool(re.fullmatch(r"\d{9}(MVA)?", body)) and _mod11_ok(body[:9], (3, 2, 7, 6, 5, 4, 3, 2))


def _vat_gb(body: str) -> bool:
    return bool(re.fullmatch(r"(\d{9}|\d{12}|GD\d{3}|HA\d{3})", body))


def _vat_ch(body: str) -> bool:
    """A Swiss UID as a VAT number: E + 9 digits (mod 11 check digit), then MWST, TVA or IVA if written."""
    return bool(re.fullmatch(r"E\d{9}(MWST|TVA|IVA)?", body)) and _mod11_ok(body[1:10], (5, 4, 3, 2, 7, 6, 5, 4))


def _vat_el(body: str) -> bool:
    """Greece's VAT number (its tax number, AFM): 9 digits, the last a check digit (the first eight weighted by
    256 … 2, modulo 11, modulo 10)."""
    if not re.fullmatch(r"\d{9}", body):
        return False
    total = sum(int(d) << (8 - i) for i, d in enumerate(body[:8]))
    return total % 11 % 10 == int(body[8])


def _vat_other(body: str) -> bool:
    return bool(re.fullmatch(r"[A-Z0-9+*]{2,13}", body))


#: The prefixes a VAT number can have: the EU's member states (Greece's written EL, or GR), Northern Ireland's XI
#: (UK VAT numbers for goods), and the UK, Norway and Switzerland, whose numbers are written the same way. A
#: customer elsewhere has no VAT number of this kind: the field stays empty.
EU_VAT_PREFIXES = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "GR", "ES", "FI", "FR", "HR",
                             "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
VAT_PREFIXES = EU_VAT_PREFIXES | {"XI", "GB", "NO", "CH"}


_VAT_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "SE": (_vat_se, N_("SE + the 10-digit organisation number + 01, like SE556677889901")),
    "DK": (lambda b: bool(re.fullmatch(r"\d{8}", b)) and _dk_cvr_ok(b), N_("DK + 8 digits, like DK12345674")),
    "NO": (_vat_no, N_("NO + 9 digits + MVA, like NO923609016MVA")),
    "FI": (_vat_fi, N_("FI + 8 digits, like FI12345671")),
    "DE": (lambda b: bool(re.fullmatch(r"\d{9}", b)) and _de_vat_ok(b), N_("DE + 9 digits, like DE136695976")),
    "GB": (_vat_gb, N_("GB + 9 or 12 digits, like GB123456789")),
    "XI": (_vat_gb, N_("XI + 9 or 12 digits, like XI123456789")),
    "CH": (_vat_ch, N_("CHE + 9 digits + MWST, TVA or IVA, like CHE116281710MWST")),
    "EL": (_vat_el, N_("EL + 9 digits, like EL123456783")),
}


def check_vat_number(value: str, country: str) -> str:
    """Check an EU-style VAT number; the two-letter prefix says the country (else the customer's). Only the
    countries of :data:`VAT_PREFIXES` have such numbers."""
    compact = re.sub(r"[\s.-]", "", value.strip().upper())
    prefix = compact[:2]
    if prefix.isalpha():
        body = compact[2:]
        if prefix not in VAT_PREFIXES:
            raise ValueError(_("{prefix} is not a VAT country code: a VAT number starts with the code of an EU "
                               "country, or GB, XI, NO or CH, like SE556677889901.").format(prefix=prefix))
    else:
        prefix, body = country, compact
        if prefix not in VAT_PREFIXES:  # a customer outside them (or of no country) writes the prefix
            raise ValueError(_("Write the VAT number with its country code (an EU country, or GB, XI, NO or CH), "
                               "like SE556677889901."))
    if prefix == "GR":  # Greece's VAT numbers are written EL (as VIES and invoices write them), its country GR
        prefix = "EL"
    rule, shape = _VAT_RULES.get(prefix, (_vat_other, N_("the country code + 2 to 13 letters or digits")))
    if not rule(body):
        raise ValueError(_("Not a valid VAT number for {country}: expected {shape}.").format(country=prefix,
                                                                                              shape=_(shape)))
    return f"{prefix}{body}"


def check_gln(value: str) -> str:
    """Check a GLN/EAN location number: 13 digits with a GS1 check digit."""
    digits = _digits(value)
    if len(digits) != GLN_DIGITS or digits != value.strip().replace(" ", ""):
        raise ValueError(_("A GLN (EAN location number) has 13 digits, like 7350012345679."))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    if (10 - total % 10) % 10 != int(digits[12]):
        raise ValueError(_("This GLN has a wrong check digit."))
    return digits


_POSTAL = {
    "SE": (r"\d{3} ?\d{2}", N_("5 digits, like 114 55"), lambda d: f"{d[:3]} {d[3:]}"),
    "DK": (r"\d{4}", N_("4 digits, like 2100"), None),
    "NO": (r"\d{4}", N_("4 digits, like 0150"), None),
    "FI": (r"\d{5}", N_("5 digits, like 00100"), None),
    "DE": (r"\d{5}", N_("5 digits, like 10115"), None),
    "GB": (r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", N_("a postcode like SW1A 1AA"), None),
}


def check_postal_code(value: str, country: str) -> str:
    """Check a postal code's shape for the address's country."""
    text = value.strip().upper()
    rule = _POSTAL.get(country)
    if rule is None:
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9 -]{1,11}", text):
            raise ValueError(_("A postal code has 2–12 letters, digits, spaces or dashes."))
        return text
    pattern, shape, formatter = rule
    if not re.fullmatch(pattern, text):
        raise ValueError(_("A postal code in {country} has {shape}.").format(country=country, shape=_(shape)))
    if formatter:
        return formatter(_digits(text))
    if country == "GB" and " " not in text:
        return f"{text[:-3]} {text[-3:]}"
    return text


def _email_reason(exc: email_validator.EmailNotValidError) -> str:  # noqa: PLR0911 - a reason per kind
    """Why an address is refused, in our words in every language (the validator's own English capitalised its
    reason mid-sentence, wrote 'email' and named characters as 'SPACE'): the common reasons, and a general one for
    the rest."""
    text = str(exc)
    if "must have an @-sign" in text or "after the @-sign contains invalid characters: '@'" in text:
        return _("it needs exactly one @.")
    if "something before the @-sign" in text:
        return _("there is nothing before the @.")
    if "something after the @-sign" in text:
        return _("there is nothing after the @.")
    if "after the @-sign" in text and "invalid characters" in text:
        return _("the part after the @ has characters a domain name cannot have.")
    if "after the @-sign" in text or "domain" in text:  # no period, a hyphen or an IP address after the @ …
        return _("the part after the @ is not a domain name.")
    if "period" in text:
        return _("a period cannot come first, last, twice in a row or just before the @.")
    if "before the @" in text or "local part" in text or "invalid characters" in text:
        return _("the part before the @ has characters an address cannot have.")
    if "too long" in text:
        return _("it is too long.")
    return _("check how it is written.")


def check_email(value: str) -> str:
    """Check an e-mail address's syntax (no lookup of the domain)."""
    try:
        result = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(_("Not a valid e-mail address: {reason}").format(reason=_email_reason(exc))) from None
    return result.normalized


def phone_region(country: str | None, fallback: str) -> str:
    """Where phone numbers without a country calling code are read: the customer's country when it has a numbering
    plan of its own, else ``fallback`` (the firm's phone region)."""
    return country if country in phonenumbers.SUPPORTED_REGIONS else fallback


def check_phone(value: str, region: str) -> str:
    """Check a phone number (national numbers read in ``region``) and format it internationally."""
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        raise ValueError(_("Not a phone number: use digits, like +46 8 123 45 67 or 08-123 45 67.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("Not a valid phone number (read as {region}): check the digits.").format(
            region=region or _("international")))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


#: The highest port number a web address may name.
MAX_PORT = 65535


def check_website(value: str) -> str:
    """Check a web address; a bare domain gets https:// in front."""
    text = value.strip()
    scheme = re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE)
    # a scheme is the same in any case ('Https://', as a phone's keyboard writes it): kept in lower case
    text = "https://" + text if scheme is None else scheme.group(0).lower() + text[scheme.end():]
    if re.search(f"{UNSEEN}|[\x00-\x1f\x7f-\x9f]", text):  # the link would read as another address than it opens
        raise ValueError(_("A web address cannot hold invisible characters or direction marks: type it again."))
    found = re.fullmatch(r"https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+(?::(\d+))?"
                         r"(?:[/?#]\S*)?", _ascii_host(text))
    if not found or (found.group(1) is not None and not 0 < int(found.group(1)) <= MAX_PORT):
        raise ValueError(_("Not a web address: use a form like www.example.se or https://example.se."))
    return text


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # one part of a domain name, as DNS writes it
HOST_LENGTH = 253


def check_host(value: str) -> str:
    """Check a server's host name (a mail server's): a domain name, an IPv4 address or an IPv6 address, without a
    scheme, a port or a path, which go elsewhere."""
    text = value.strip()
    if re.fullmatch(r"\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]?", text):  # an IPv6 address, bracketed or not
        try:
            return str(ipaddress.IPv6Address(text.strip("[]")))
        except ValueError:
            pass
    text = text[:-1] if text.endswith(".") and not text.endswith("..") else text  # 'smtp.example.se.' (the root)
    ascii_name = _ascii_host(f"x://{text}")[4:]
    if re.fullmatch(r"[\d.]+", ascii_name):  # numbers and dots only: an IPv4 address, or nothing
        try:
            return str(ipaddress.IPv4Address(ascii_name))
        except ValueError:
            pass
    elif re.fullmatch(rf"(?:{_LABEL}\.)*{_LABEL}", ascii_name) and len(ascii_name) <= HOST_LENGTH:
        return text.lower()
    raise ValueError(_("Write the server's name only, like smtp.example.se or 192.0.2.25 (no http://, the port goes "
                       "in its own field)."))


def _ascii_host(url: str) -> str:
    """The address with its host as DNS writes it (www.räksmörgås.se → www.xn--rksmrgs-5wao1o.se, by the rules of
    IDNA 2008 / UTS 46), to be checked as any other; kept as typed when its host is no such name (a snowman, an
    invisible joiner, a full-width slash)."""
    match = re.match(r"^([a-z][a-z0-9+.-]*://)([^/?#:]+)(.*)$", url, re.IGNORECASE | re.DOTALL)
    if match is None or match.group(2).isascii():
        return url
    try:
        host = idna.encode(match.group(2), uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return url
    return match.group(1) + host + match.group(3)


@functools.cache
def _country_codes_by_name() -> dict[str, str]:
    """{name, case aside: code} of every country, in each language of the product (Sweden, Sverige, Danmark)."""
    names = [Locale(language).territories for language in LANGUAGES]
    return {territories[code].casefold(): code for territories in names for code in COUNTRIES if code in territories}


def country_code(value: str) -> str:
    """The two-letter code a country is written as: its name in English, Swedish or Danish (case aside) made its
    code; anything else as typed, in capitals (checked by :func:`check_country`)."""
    return _country_codes_by_name().get(" ".join(value.split()).casefold(), value.strip().upper())


def check_country(value: str, known: set[str] | frozenset[str]) -> str:
    """Check a country: its two-letter ISO 3166 code or its name in English, Swedish or Danish (``known``: the
    codes allowed, every country's by default); the code is kept."""
    code = country_code(value)
    if code not in known:
        if code == "UK":
            raise ValueError(_("The United Kingdom's country code is GB."))
        raise ValueError(_("{code} is not a country: write its name, or its two-letter ISO 3166 code like SE, DE, "
                           "GB or US.").format(code=_quoted_code(value.strip())))
    return code


def _quoted_code(code: str) -> str:
    """A code as a message quotes it (at most 10 characters)."""
    return quote(code if len(code) <= 10 else code[:9] + "…")  # noqa: PLR2004 - a code is short


def phone_digits(value: str | None) -> str:
    """Only the digits of a phone number, for search (formatting does not matter)."""
    return _digits(value or "")


# -- texts -----------------------------------------------------------------------------------------------
#: Characters no text keeps: C0 and C1 control characters (NUL among them), DEL, and lone surrogates (no
#: database stores them). Tab and line feed are not among them: multi-line texts keep those.
_UNSTORABLE = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
#: A regular expression matching one such character (for pandas' ``str.contains``).
UNSTORABLE_PATTERN = f"[{_UNSTORABLE}]"
#: The same for texts kept as UTF-8 (pandas' Arrow-backed strings), which hold no lone surrogates — and whose
#: regular expressions cannot even be given one.
UNSTORABLE_UTF8_PATTERN = "[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_BAD_IN_MULTILINE = re.compile(f"[{_UNSTORABLE}]")
#: On one line, also the Unicode line and paragraph separators (U+2028, U+2029): they break a line as \n does.
_BAD_ON_ONE_LINE = re.compile(f"[{_UNSTORABLE}\t\n\u2028\u2029]")


#: Characters that show nothing and are no space, yet are not controls: zero-width spaces and joiners, marks of
#: direction, the word joiner and the byte order mark, the soft hyphen, and the blank fillers of Hangul and Braille.
#: A text of only these (and spaces) is empty, and they go at a text's ends as spaces do; inside it they stay (a
#: joiner belongs in an emoji or a Persian word, a mark of direction in a mixed right-to-left text).
INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
             "\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\u2800\u3164\ufeff\uffa0")
#: What goes at a text's ends: every space (as ``str.strip`` has them; the last is U+3000) and :data:`INVISIBLE`.
_AT_THE_ENDS = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + INVISIBLE
#: The bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069): they turn the text
#: after them around where it is shown ("Acme\u202eBA kcaH" reads "AcmeHack AB"). A name refuses them (it must
#: read as typed: the customer's name and nickname); free texts (notes, addresses, follow-ups) keep them, as
#: typed and shown escaped.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
#: What shows nothing inside a word: :data:`INVISIBLE`, the bidirectional controls, the rest of the invisible
#: operators (U+2060–U+206F) and the variation selectors — a name with them reads as one without.
UNSEEN = f"[{re.escape(INVISIBLE)}{BIDI_CONTROLS}\u2060-\u206f\ufe00-\ufe0f]"
_UNSEEN = re.compile(UNSEEN)


def name_key(text: str) -> str:
    """A name as "is it there already?" compares it: letters composed, without what shows nothing, spaces folded,
    case folded — "Consul\u00adting", "consulting" and "Consulting  " are one name to a person, so one to a list,
    a criterion's values and a user's saved views."""
    text = str(text or "")
    if not text.isascii():
        text = _UNSEEN.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split()).casefold()


def isolated(value: object) -> object:
    """A text that holds direction controls (a title with U+202E, right-to-left override) kept to itself: wrapped
    in a first-strong isolate, as ``<bdi>`` would, so that it cannot turn round the sentence it is put into
    ("(€12,345)" shown as "(543,21€)"). Anything else is given back as it is."""
    if isinstance(value, str) and _BIDI.search(value):
        return "\u2068" + value + "\u2069"
    return value


#: A text that shows nothing at all: spaces, :data:`UNSEEN` and the tag characters (U+E0000–U+E007F) only — a name
#: "of" them was a heading without a word and a link nobody could click.
_SHOWS_NOTHING = re.compile(f"(?:{UNSEEN}|[\U000e0000-\U000e007f]|\\s)*")


def strip_text(value: str) -> str:
    """A text without the spaces and invisible characters (:data:`INVISIBLE`) at its ends: '' for a text of only
    those, or of nothing that shows (direction controls, tag characters)."""
    text = value.strip(_AT_THE_ENDS)
    if text and not text.isascii() and _SHOWS_NOTHING.fullmatch(text):
        return ""
    return text


def is_blank(value: object) -> bool:
    """Whether a value is missing: None, or a text of only spaces and invisible characters."""
    return value is None or (isinstance(value, str) and not strip_text(value))


def check_text(value: str, max_length: int, multiline: bool = False, direction_controls: bool = True) -> str:
    """A text as kept: spaces and invisible characters (:data:`INVISIBLE`) at the ends dropped, line ends as
    ``\\n``, letters composed (Unicode NFC: an Å pasted as A and a combining ring, as macOS gives it, is the one
    letter Å, so that it reads, sorts, compares and is found as typed); at most ``max_length`` characters, no
    control characters (tabs and line breaks only when ``multiline``), and without ``direction_controls`` no
    bidirectional override, embedding or isolate (:data:`BIDI_CONTROLS`). The length is checked first, so nothing
    reads an over-long text further."""
    text = strip_text(value)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if multiline and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_length:
        raise ValueError(_("At most {n} characters.").format(n=formatting.number(max_length)))
    bad = (_BAD_IN_MULTILINE if multiline else _BAD_ON_ONE_LINE).search(text)
    if bad is None:
        bidi = None if direction_controls else _BIDI.search(text)
        if bidi is not None:
            raise ValueError(_("Contains an invisible character ({code}) that changes the direction of the text "
                               "shown after it: remove it.").format(code=f"U+{ord(bidi.group()):04X}"))
        return text
    char = bad.group()
    if char in "\t\n\r\u2028\u2029":
        raise ValueError(_("One line only: no line breaks or tabs."))
    if "\ud800" <= char <= "\udfff":
        raise ValueError(_("Contains a broken character ({code}) that cannot be stored: remove it.").format(
            code=f"U+{ord(char):04X}"))
    raise ValueError(_("Contains an invisible control character ({code}) that cannot be stored: remove it.").format(
        code=f"U+{ord(char):04X}"))


_LINE_ENDS = re.compile("\r\n?")
_UNSTORABLE_CHARS = re.compile(f"[{_UNSTORABLE}]")
_LINE_BREAKS_AND_TABS = re.compile("[\t\n\u2028\u2029]")


def clean_text(value: str, multiline: bool = False) -> str:
    """Pasted (or once stored) text made fit to keep: line ends as ``\\n``; on one line, tabs and line breaks as
    spaces; every other control character dropped. Nothing else changes (the length is the model's to check)."""
    text = _LINE_ENDS.sub("\n", value)
    if not multiline:
        text = _LINE_BREAKS_AND_TABS.sub(" ", text)
    return _UNSTORABLE_CHARS.sub("", text)


def has_unstorable(value: str) -> bool:
    """Whether a text holds a character :func:`clean_text` drops (a control character other than tab and line
    breaks, or a lone surrogate)."""
    return _UNSTORABLE_CHARS.search(value) is not None
