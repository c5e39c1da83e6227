"""Process configuration, read from ``CUSTOMERCARD_*`` environment variables; the only place that reads them.

Firm-wide settings that administrators change at run time (feature switches, start address, base
currency, ...) are not here: they live in the database (see :class:`customercard.models.Settings`).
"""

from __future__ import annotations

import getpass
import ipaddress
import os
from pathlib import Path

import param

from .errors import CustomerCardError
from .i18n import LANGUAGES, _, supported

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    # A source checkout keeps its data beside the package; an installed package uses the working folder.
    if (PROJECT_DIR / "pyproject.toml").exists():
        return PROJECT_DIR / "data"
    return Path.cwd() / "data"


class Config(param.Parameterized):
    """Where the data lives and how to reach the outside world; one instance per process."""

    data_dir = param.Path(default=None, check_exists=False, allow_None=True,
                          doc="Folder of the embedded database, stored files and the cookie secret.")
    db = param.String(default="", doc="Database: a DuckDB file path, or a postgresql:// URL. "
                                      "Empty means <data_dir>/customercard.duckdb.")
    user = param.String(default="", doc="Who is acting in notebooks and scripts (else the OS login).")
    base_url = param.String(default="", doc="Public base URL of the served app, for links in e-mails.")
    cookie_secret = param.String(default="", doc="Secret that signs login cookies; generated when empty.")
    smtp_host = param.String(default="", doc="SMTP server host name.")
    smtp_port = param.Integer(default=0, bounds=(0, 65535), doc="SMTP port (0: 25, 587 or 465 by security).")
    smtp_security = param.Selector(default="", objects=["", "none", "starttls", "ssl"],
                                   doc="Transport security for SMTP; empty means use the admin setting.")
    smtp_user = param.String(default="", doc="SMTP login.")
    smtp_password = param.String(default="", doc="SMTP password.")
    smtp_from = param.String(default="", doc="Sender address of mails from customercard.")
    smtp_timeout = param.Number(default=10.0, bounds=(0.1, 300), doc="Seconds before SMTP gives up.")
    sync_url = param.String(default="", doc="Economy-system receiver URL for the outbox worker.")
    sync_secret = param.String(default="", doc="Shared secret for the outbox HMAC-SHA256 signature.")
    session_idle_minutes = param.Integer(default=480, bounds=(1, None), doc=(
        "Minutes a login session may go unused before it ends (the browser must log in again)."))
    session_max_hours = param.Integer(default=24, bounds=(1, None), doc=(
        "Hours a login session lasts at most, however much it is used."))
    trusted_proxies = param.String(default="127.0.0.0/8, ::1", doc=(
        "Addresses or networks (comma-separated) of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed; from anywhere else they are ignored."))
    api_requests_per_minute = param.Integer(default=600, bounds=(1, None), doc=(
        "Requests one API token (or one login's browser session) may make to /api/v1 per minute, per server "
        "process; past it the API answers 429 with Retry-After."))
    duckdb_memory_mb = param.Integer(default=0, bounds=(0, None), doc=(
        "DuckDB's memory limit in MB; 0: DuckDB's own (80 % of the machine's memory). What searches read is held in "
        "memory only when it takes at most a quarter of this limit, so a lower limit keeps a large firm's server "
        "small: at 1,000,000 customers, 1100 kept it under 1.5 GB with 30 sessions open, the index read as "
        "searches need it (benchmarks/RESULTS.md, item 17). At least 100 when set."))
    search_in_memory = param.Boolean(default=True, doc=(
        "Whether the server keeps what searches read in memory (DuckDB; about 25 MB per 10,000 customers, and "
        "never more than a quarter of DuckDB's memory limit), so that no search waits for a first read."))
    search_memory_mb = param.Integer(default=1000, bounds=(0, None), doc=(
        "The most the server reads ahead for searches, in MB (DuckDB). Of a larger index (some 400,000 customers "
        "and more) what searches read at scattered rows is read ahead, within a quarter of this, and the rest as "
        "searches need it; DuckDB's memory limit becomes this plus 100 MB unless CUSTOMERCARD_DUCKDB_MEMORY_MB sets "
        "one: at 1,000,000 customers the server then stays under 1.5 GB with 30 sessions open "
        "(benchmarks/RESULTS.md, item 17). 0: no bound (all of it, as long as it takes at most a quarter of DuckDB's "
        "limit)."))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        """Build the configuration from ``CUSTOMERCARD_*`` variables (``CUSTOMERCARD_SMTP_HOST`` → smtp_host)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, parameter in cls.param.objects("existing").items():
            raw = env.get(f"CUSTOMERCARD_{name.upper()}")
            if raw is None or name == "name":
                continue
            values[name] = _value(f"CUSTOMERCARD_{name.upper()}", parameter, raw)
        if "trusted_proxies" in values:
            _networks("CUSTOMERCARD_TRUSTED_PROXIES", str(values["trusted_proxies"]))
        _language(env.get("CUSTOMERCARD_LANGUAGE"))
        if "data_dir" not in values:
            values["data_dir"] = str(_default_data_dir())
        return cls(**values)

    @property
    def trusted_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The trusted proxies as networks (a single address is a network of one)."""
        return _networks("CUSTOMERCARD_TRUSTED_PROXIES", self.trusted_proxies)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir or _default_data_dir())

    @property
    def database(self) -> str:
        """The database to open: the configured one, else the embedded file in the data folder."""
        return self.db or str(self.data_path / "customercard.duckdb")

    def configured_user(self) -> str:
        """The user acting outside a served session: CUSTOMERCARD_USER, else the OS login."""
        if self.user:
            return self.user
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _value(variable: str, parameter: param.Parameter, raw: str) -> object:
    """An environment variable's text as the parameter's type, or one clear error naming the variable."""
    try:
        if isinstance(parameter, param.Boolean):
            word = raw.strip().lower()
            if word not in _YES + _NO:
                raise ValueError
            return word in _YES
        if isinstance(parameter, param.Integer):
            return _within(variable, parameter, int(raw))
        if isinstance(parameter, param.Number):
            return _within(variable, parameter, float(raw))
        if isinstance(parameter, param.Selector) and parameter.objects:
            word = raw.strip().lower()  # STARTTLS as starttls
            if word not in parameter.objects:
                raise CustomerCardError(_("{variable} must be one of {choices}, not {raw!r}").format(
                    variable=variable, choices=", ".join(repr(o) for o in parameter.objects), raw=raw))
            return word
    except ValueError:
        kind = (_("yes or no (1/0, true/false, on/off)") if isinstance(parameter, param.Boolean)
                else _("a whole number") if isinstance(parameter, param.Integer) else _("a number"))
        raise CustomerCardError(_("{variable} must be {kind}, not {raw!r}").format(
            variable=variable, kind=kind, raw=raw)) from None
    return raw


def _within(variable: str, parameter: param.Number, value: float) -> float:
    """``value`` when inside the parameter's bounds, else one clear error naming the variable."""
    low, high = parameter.bounds or (None, None)
    if (low is not None and value < low) or (high is not None and value > high):
        span = (_("at least {low}").format(low=low) if high is None
                else _("from {low} to {high}").format(low=low, high=high))
        raise CustomerCardError(_("{variable} must be {span}, not {value}").format(
            variable=variable, span=span, value=f"{value:g}"))
    return value


def _networks(variable: str, text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CustomerCardError(_("{variable} must be addresses or networks separated by commas (e.g. 127.0.0.1, "
                                  "10.0.0.0/8), not {text!r}").format(variable=variable, text=text)) from None


def _language(raw: str | None) -> None:
    """CUSTOMERCARD_LANGUAGE names a language customercard speaks ('sv', 'sv_SE.UTF-8', 'en-GB' …), or is unset:
    one clear error for any other ('fr' would be English without a word said)."""
    if raw is not None and raw.strip() and not supported(raw):
        raise CustomerCardError(_("{variable} must be one of {choices}, not {raw!r}").format(
            variable="CUSTOMERCARD_LANGUAGE", choices=", ".join(repr(code) for code in LANGUAGES), raw=raw))


def get_config() -> Config:
    """The configuration of this process, read afresh from the environment."""
    return Config.from_env()
