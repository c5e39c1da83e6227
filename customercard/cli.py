"""``customercard`` — the command line: serve, demo, users, API tokens, backup, import and export.

User mistakes end with one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import getpass
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import get_config
from .errors import CustomerCardError, ValidationError
from .i18n import N_, _, ngettext, quote

EXIT_USAGE = 2
EXIT_ERROR = 1
CLI_ACTOR = "system:cli"
#: The exit status when the output's reader stopped reading (128 + SIGPIPE, as a command killed by it).
EXIT_BROKEN_PIPE = 141
#: The largest TCP port number.
MAX_PORT = 65535


def _store(args: argparse.Namespace, new_ok: bool = False, beside_server: bool = False, defaults: bool = True):
    """The database, opened here. A DuckDB file that is not there is made only by a command that fills it
    (``new_ok``: demo, import, the first user); for any other, a mistyped ``--db`` would make an empty database
    and report on it as if it were the firm's. A database made so gets the firm's default lists, criteria and
    settings at once (``defaults``; the demo brings its own), as one made by ``serve`` does: a first user or a
    first import before the first ``serve`` left the firm without any (every status of an import refused).

    ``beside_server``: a command that also works while a customercard server of this machine holds the DuckDB file
    (users, tokens, import, export, privacy): it is done by that server (its discovery file's key, as a notebook's
    store), and a line says so. The server's own upkeep (demo, reindex, migrate) needs the file itself; see
    cmd_backup for the copy the server makes."""
    from .store import is_url, open_store

    database = _database(args)
    is_new = not is_url(database) and not Path(database).exists()
    if is_new and not new_ok:
        raise CustomerCardError(_("There is no database at {database}: check --db (or CUSTOMERCARD_DB); `customercard "
                                  "demo` or `customercard serve --demo-if-missing` makes a new one.").format(
                                      database=database))
    store = open_store(args.db or None, through_server=beside_server)
    # (a PostgreSQL database is made empty by its administrator: one with no customers and no lists is new too)
    if defaults and new_ok and (is_new or (getattr(store, "db", None) is not None and _unfilled(store))):
        from .firm_defaults import install_defaults

        install_defaults(store)
    return store


def _database(args: argparse.Namespace) -> str:
    return args.db or get_config().database


def _unfilled(store: Any) -> bool:
    """No customers and no admin list values yet: a database made before its first ``serve`` by a version that gave
    it none (its first user added then)."""
    return store.db.row("SELECT count(*) FROM customers")[0] == 0 and \
        store.db.row("SELECT count(*) FROM list_values")[0] == 0


# -- serve -------------------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from . import app
    from .demo import build_demo
    from .store import is_url, open_store

    _check_listen(args.address, args.port)
    _log_to_stderr()
    database = _database(args)
    is_new = not is_url(database) and not Path(database).exists()  # (postgres:// and postgresql:// both)
    notebooks = _notebook_pages(args.notebook or [])
    store = open_store(database, through_server=False)
    app.check_processes(store, args.num_procs)
    empty = is_new or store.is_empty()
    if empty or _unfilled(store):
        if args.demo_if_missing and empty:
            print(_("Creating {database} with demo data ({n} customers)…").format(database=store.location,
                                                                               n=args.customers), flush=True)
            summary = build_demo(store, customers=args.customers, seed=args.seed)
            print(_("Demo data ready in {seconds} s.").format(seconds=summary.seconds))
        else:
            from .firm_defaults import install_defaults

            install_defaults(store)
            if store.users().empty:
                print(_("This database has no users yet: add an administrator with\n  customercard users add LOGIN "
                        "--name 'Your Name' --role admin"), file=sys.stderr)
    _print_demo_logins(store)
    _stop_on_sigterm()  # (the processes --num-procs forks have it too, and end with the first: see app.serve)
    try:
        app.serve(store, port=args.port, address=args.address, num_procs=args.num_procs,
                  allow_websocket_origin=args.allow_websocket_origin, show=args.show, bench=args.bench,
                  notebooks=notebooks)
    except OSError as exc:  # the port or address cannot be listened on (what else fails is not caught here)
        if not _cannot_listen(exc):
            raise
        raise _listen_refused(exc, args.address, args.port) from None
    return 0


def _check_listen(address: str, port: int) -> None:
    """Refuse at once, before anything is opened, a port already in use or an address not this machine's (the
    server binds as this does: SO_REUSEADDR, every address ``address`` resolves to)."""
    import socket

    try:
        found = socket.getaddrinfo(address or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
        for family, kind, protocol, _name, where in found:
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(where)
    except OSError as exc:
        if not _cannot_listen(exc):
            raise
        raise _listen_refused(exc, address, port) from None


def _listen_refused(exc: OSError, address: str, port: int) -> CustomerCardError:
    if exc.errno == errno.EADDRINUSE:
        return CustomerCardError(_("Port {port} is in use already (another server?): stop that one, or choose "
                                   "another port with --port.").format(port=port))
    return CustomerCardError(_("Cannot serve on {address} port {port}: {reason}.").format(
        address=address, port=port, reason=exc.strerror or exc))


def _cannot_listen(exc: OSError) -> bool:
    """Whether ``exc`` is a refusal to listen: the port in use or not ours to take, the address unknown or not this
    machine's."""
    import socket

    return isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)


def _port(text: str) -> int:
    """``--port``: a TCP port number."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(_("give a port number from 1 to {top}, not {text}").format(
            top=MAX_PORT, text=text))
    return port


def _customer_count(text: str) -> int:
    """``--customers``: how many demo customers, at least one."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(_("give a whole number of customers, at least 1, not {text}").format(
            text=text))
    return count


def _day(text: str) -> dt.date:
    """``--today``: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(_("give a date written YYYY-MM-DD, like 2026-06-15, not {text}").format(
            text=text)) from None


def _stop_on_sigterm() -> None:
    """SIGTERM (a service manager's stop) ends the server as Ctrl+C does: it stops cleanly and removes its discovery
    file."""
    import signal
    import threading

    asked = []

    def interrupt(_signum: int, _frame: object) -> None:
        # The server's running loop is asked to stop, and it stops cleanly between two of its callbacks: raised here,
        # at any bytecode, the interruption could land in a callback Python runs without letting it out (a weak
        # reference's), and the server went on until a second SIGTERM. Without a running loop (starting up; the
        # process that forked --num-procs waits for its children), or asked again: interrupted at once.
        from tornado.ioloop import IOLoop

        loop = IOLoop.current(instance=False)
        if asked or loop is None or not loop.asyncio_loop.is_running():
            raise KeyboardInterrupt
        asked.append(True)
        loop.asyncio_loop.call_soon_threadsafe(loop.stop)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _notebook_pages(paths: list[Path]) -> dict[str, str]:
    """``--notebook`` files as pages: each at /<its name without .ipynb>, as ``panel serve`` serves it."""
    from .app import ROUTES

    taken = {*ROUTES, "/login", "/logout", "/api", "/files", "/static", "/ws", "/metadata", "/autoload.js",
             "/components", "/panel-preview", "/livereload", "/favicon.ico"}  # the app's (and its server's) own
    pages: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            raise CustomerCardError(_("{source} does not exist.").format(source=path))
        if path.suffix not in (".ipynb", ".py") or not path.is_file():
            raise CustomerCardError(_("{path} is not a notebook (.ipynb) or script (.py) file.").format(path=path))
        address = f"/{path.stem}"
        if address.lower() in taken or address in pages:  # it would take that page's place without a word
            raise CustomerCardError(_("{path} would be served at {address}, which is {what}: rename the file.").format(
                path=path, address=address, what=_("another notebook's") if address in pages
                else _("one of customercard's own pages")))
        pages[address] = str(path.resolve())
    return pages


def _log_to_stderr() -> None:
    """The server's own messages (what it holds in memory, failed deliveries) on stderr, beside Bokeh's."""
    logger = logging.getLogger("customercard")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _print_demo_logins(store) -> None:
    from .demo import DEMO_PASSWORD, DEMO_USERS

    still_demo = []
    for login, name, role, _projects in DEMO_USERS:
        if store.authenticate(login, DEMO_PASSWORD) is not None:
            still_demo.append(f"  {login:<8} {role:<8} {name}")
    if still_demo:
        print(_("Demo logins (password {password}):").format(password=quote(DEMO_PASSWORD)))
        print("\n".join(still_demo), flush=True)


# -- demo --------------------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import DEMO_PASSWORD, DEMO_USERS, build_demo

    store = _store(args, new_ok=True, defaults=False)
    try:
        summary = build_demo(store, customers=args.customers, seed=args.seed, today=args.today,
                             progress=not args.quiet)
    except ValueError as exc:
        raise CustomerCardError(str(exc)) from None
    finally:
        store.close()
    print(_("Made {customers} customers, {contacts} contacts, {projects} projects, {invoices} invoices, {comments} "
            "comments, {events} events, {opportunities} opportunities and {relations} relations in {seconds} s into "
            "{database}.").format(customers=summary.customers, contacts=summary.contacts, projects=summary.projects,
                                  invoices=summary.invoices, comments=summary.comments, events=summary.events,
                                  opportunities=summary.opportunities, relations=summary.relations,
                                  seconds=summary.seconds, database=_database(args)))
    print(_("Logins (password {password}): {logins}").format(
        password=quote(DEMO_PASSWORD), logins=", ".join(f"{u[0]} ({_(u[2])})" for u in DEMO_USERS)))
    return 0


# -- users -------------------------------------------------------------------------------------------------
def _read_password(args: argparse.Namespace) -> str:
    if getattr(args, "password", None):
        return args.password
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")  # (a line from a file written on Windows ends in \r\n)
    if not sys.stdin.isatty():
        raise CustomerCardError(_("Give the password with --password or --password-stdin."))
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise CustomerCardError(_("The two passwords differ; nothing was changed."))
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from .models import User

    with _store(args, new_ok=args.action == "add", beside_server=True) as store:
        if args.action == "list":
            frame = store.users(include_inactive=True)
            if frame.empty:
                print(_("No users yet."))
            for row in frame.itertuples():
                flags = ("" if row.active else " (" + _("deactivated") + ")") + \
                    (" +" + _("projects") if row.projects_access else "")
                print(f"{row.login:<16} {_(row.role):<14} {row.name} <{row.email}>{flags}")
            return 0
        if args.action == "add":
            user = User(login=args.login, name=args.name or args.login, email=args.email or "", role=args.role,
                        projects_access=args.projects_access)
            try:
                store.add_user(user, _read_password(args), by=CLI_ACTOR)
            except ValidationError as exc:
                if args.name or "login" not in exc.errors:
                    raise
                # no --name: the name is the login, whose own message says what is wrong with it
                raise ValidationError({k: v for k, v in exc.errors.items() if k != "name"}, what=exc.what) from None
            print(_("Added {login} ({role}).").format(login=user.login, role=_(user.role)))
        elif args.action == "set-password":
            revoked = store.set_password(args.login, _read_password(args), by=CLI_ACTOR)
            print(_("New password set for {login}.").format(login=args.login))
            if revoked:
                print(ngettext("{n} API token of {login} revoked (a reset ends what the old password could make).",
                               "{n} API tokens of {login} revoked (a reset ends what the old password could make).",
                               revoked).format(n=revoked, login=args.login))
        elif args.action == "set-role":
            user = store.get_user(args.login)
            user.role = args.role
            store.update_user(user, by=CLI_ACTOR)
            print(_("{login} is now {role}.").format(login=args.login, role=_(args.role)))
        elif args.action in ("deactivate", "activate"):
            user = store.get_user(args.login)
            user.active = args.action == "activate"
            store.update_user(user, by=CLI_ACTOR)
            print((_("{login} is active.") if user.active else _("{login} is deactivated.")).format(login=args.login))
    return 0


# -- API tokens --------------------------------------------------------------------------------------------
def cmd_tokens(args: argparse.Namespace) -> int:
    """Make, list and revoke a user's personal API tokens (the secret is printed once, on the last line)."""
    from . import formatting

    with _store(args, beside_server=True) as store:
        if args.action == "create":
            token, secret = store.create_token(args.login, args.name, read_only=args.read_only, user=CLI_ACTOR)
            made = (_("Made API token {id} {name} for {login}, read-only.") if token.read_only else
                    _("Made API token {id} {name} for {login}."))
            print(made.format(id=token.id, name=quote(token.name), login=token.login))
            print(_("It is shown only now: keep it where the script that uses it can read it. Send it as "
                    "Authorization: Bearer <token>."))
            print(secret)
        elif args.action == "list":
            store.get_user(args.login)
            zone = store.settings().time_zone
            found = store.tokens(args.login)
            if not found:
                print(_("{login} has no API tokens.").format(login=args.login))
            for token in found:
                used = formatting.datetime(token.last_used_at, zone) if token.last_used_at else _("never")
                flag = "  " + _("read-only") if token.read_only else ""
                print(f"{token.id:>5}  {token.hint}…  {token.name}  {_('created')} "
                      f"{formatting.datetime(token.created_at, zone)}  {_('last used')} {used}{flag}")
        elif store.revoke_token(args.token_id, user=CLI_ACTOR):
            print(_("Revoked API token {id}: every request with it is refused from now on.").format(id=args.token_id))
        else:
            print(_("API token {id} was revoked already.").format(id=args.token_id))
    return 0


# -- backup ------------------------------------------------------------------------------------------------
def cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy: made by the running server that holds the DuckDB file, else here."""
    from .store import RemoteStore, is_url
    from .store.discovery import find_server

    database = _database(args)
    found = None if is_url(database) else find_server(database)
    if found is not None:
        if args.path.exists():  # said here, as the embedded backup says it
            raise CustomerCardError(_("{target} exists already: choose a new file name.").format(target=args.path))
        with RemoteStore(found.url, key=found.key, database=found.database) as remote:
            target = remote.backup(args.path)
        print(_("Backed up {database} to {target} (made by the running server at {url}).").format(
            database=database, target=target, url=found.url))
        return 0
    from .remote_api import backup_to

    with _store(args) as store:
        target = backup_to(store, args.path)
    print(_("Backed up {database} to {target}.").format(database=database, target=target))
    return 0


def cmd_cookie_secret(args: argparse.Namespace) -> int:
    """Print the secret that signs login cookies, as ``customercard serve`` keeps it (for ``panel serve …
    --cookie-secret "$(customercard cookie-secret)"``): the configured one, else PostgreSQL's, else the data
    folder's (made once)."""
    from .login import cookie_secret
    from .store import is_url

    config = get_config()
    database = _database(args)
    if is_url(database) and not config.cookie_secret:
        with _store(args) as store:
            print(cookie_secret(config.data_path, config.cookie_secret, store))
    else:
        print(cookie_secret(config.data_path, config.cookie_secret))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Build the super search's index again, sorted (after big imports, or now and then after many edits)."""
    with _store(args) as store:
        entries = store.rebuild_search_index()
    from .store.backend import redact_url

    print(_("Rebuilt the search index of {database}: {entries} entries.").format(database=redact_url(_database(args)),
                                                                                 entries=entries))
    return 0


# -- import and export -------------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    """Import customers from a CSV or Excel file; exit 1 (nothing imported) when any row has a problem."""
    from .importexport import import_customers

    with _store(args, new_ok=not args.dry_run, beside_server=True) as store:  # a dry run makes no database either
        report = import_customers(store, args.file, user=args.user or CLI_ACTOR, dry_run=args.dry_run)
    print(report.summary())
    return 0 if report.ok and not report.refused else EXIT_ERROR


def cmd_export(args: argparse.Namespace) -> int:
    """Export every customer or contact person to a .csv or .xlsx file."""
    from .importexport import export_contacts, export_customers

    write = export_customers if args.what == "customers" else export_contacts
    with _store(args, beside_server=True) as store:
        count = write(store, args.file)
    exported = (ngettext("Exported {n} customer to {file}.", "Exported {n} customers to {file}.", count)
                if args.what == "customers" else
                ngettext("Exported {n} contact person to {file}.", "Exported {n} contact persons to {file}.", count))
    print(exported.format(n=count, file=args.file))
    return 0


IMPORT_EPILOG = N_("""The first row names the columns: our own field names (name, org_number, visit_address.city,
invoicing.payment_term, ...), the headers of `customercard export customers`, or those of a plain CRM
export (Name, Org number, VAT, Address, Postal code, City, Country, Phone, E-mail, Website, Industry,
Status, Account manager). If any row has a problem, every problem is listed and nothing is imported
(exit 1). Possible duplicates are listed as warnings. A file is read up to 20 MB (an .xlsx up to 100 MB
unpacked), 10,000 rows, 300 columns and 32,767 characters a cell; beyond that it is refused with the reason.
See customercard.importexport for the full mapping.""")


# -- privacy ----------------------------------------------------------------------------------------------
def cmd_privacy(args: argparse.Namespace) -> int:
    """Export (JSON and vCard) or anonymise one contact person's personal data (GDPR)."""
    from .privacy import write_personal_data

    actor = args.user or CLI_ACTOR
    with _store(args, beside_server=True) as store:
        if args.action == "export":
            try:
                paths = write_personal_data(store, args.contact_id, args.file, user=actor)
            except CustomerCardError:  # (PermissionDenied is an OSError too: a refusal, said as it is)
                raise
            except OSError as exc:  # no folder there, not ours to write, a file where a folder should be
                from .remote_api import cannot_write

                raise cannot_write(args.file, exc) from None
            print(_("Wrote the personal data of contact person {contact_id} to {files}.").format(
                contact_id=args.contact_id, files=_(" and ").join(str(path) for path in paths)))
        else:
            if (not args.yes and sys.stdin.isatty() and store.can(actor, "admin")  # (a refusal before a question)
                    and not _confirmed_anonymising(store, args.contact_id)):
                print(_("Nothing was changed."))
                return EXIT_ERROR
            store.anonymise_contact(args.contact_id, user=actor)
            print(_("Anonymised contact person {contact_id}: their values, their history and their search entries; "
                    "the admin log says so.").format(contact_id=args.contact_id))
    return 0


def _confirmed_anonymising(store: Any, contact_id: int) -> bool:
    """Asked at a terminal (a script, its input not one, says --yes or nothing): the card asks the same."""
    contact = store.get_contact(contact_id)  # (NotFound: one line, nothing asked)
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or str(contact_id)
    try:
        answer = input(_("Anonymise {name} (contact person {contact_id})? It cannot be undone. [y/N] ").format(
            name=name, contact_id=contact_id))
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes", "j", "ja"}  # (English; Swedish and Danish say ja)


# -- migrate ----------------------------------------------------------------------------------------------
def cmd_migrate(args: argparse.Namespace) -> int:
    from .store import open_store
    from .store.copy import copy_store

    if args.source == args.target:
        raise CustomerCardError(_("--from and --to are the same database."))
    if not args.source.startswith(("postgresql://", "postgres://")) and not Path(args.source).exists():
        raise CustomerCardError(_("{source} does not exist.").format(source=args.source))
    if args.target.startswith(("postgresql://", "postgres://")):
        from .store.postgres import create_database_if_missing

        if create_database_if_missing(args.target):  # --to "made if needed"
            print(_("Made the database {database}.").format(database=args.target.rsplit("/", 1)[-1].split("?")[0]))
    with open_store(args.source, through_server=False) as source, \
            open_store(args.target, through_server=False) as target:
        report = copy_store(source, target, replace=args.replace,
                            progress=lambda table: print(f"  {table}…", flush=True))
    print(report.summary())
    return 0


# -- parser ------------------------------------------------------------------------------------------------
def _db_help() -> str:
    return _("database: a DuckDB file or postgresql:// URL (default: $CUSTOMERCARD_DB or data/customercard.duckdb)")


#: argparse's own words a person meets (usage, help headings, mistakes), in our catalogs: argparse looks each up
#: through its module's ``_`` and ``ngettext``, which :func:`main` points at ours (the command line's language).
ARGPARSE_TEXTS = (
    N_("usage: "), N_("options"), N_("positional arguments"), N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"), N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"), N_("one of the arguments %s is required"),
    N_("expected one argument"), N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("not allowed with argument %s"),
)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # --db before the command or after it: `customercard --db X demo` and `customercard demo --db X`
        self.add_argument("--db", default=argparse.SUPPRESS, help=_db_help())

    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, _("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="customercard", description=_("Customer card and light CRM for professional-services "
                                                        "firms."))
    parser.set_defaults(db=None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_serve_command(sub)
    _add_demo_command(sub)
    _add_users_command(sub)
    _add_tokens_command(sub)
    _add_migrate_command(sub)
    _add_privacy_command(sub)
    _add_backup_command(sub)
    _add_reindex_command(sub)
    _add_import_command(sub)
    _add_export_command(sub)
    return parser


def _add_serve_command(sub: argparse._SubParsersAction) -> None:
    """The ``serve`` command."""
    serve = sub.add_parser("serve", help=_("serve the dashboard (login required)"))
    serve.add_argument("--port", type=_port, default=5006, help=_("port to listen on (default 5006)"))
    serve.add_argument("--address", default="127.0.0.1", help=_("address to listen on (default 127.0.0.1)"))
    serve.add_argument("--num-procs", type=int, default=1, help=_("server processes (PostgreSQL only)"))
    serve.add_argument("--allow-websocket-origin", action="append", default=None,
                       help=_("host[:port] a browser may connect from (repeatable)"))
    serve.add_argument("--demo-if-missing", action="store_true",
                       help=_("create the database with demo data when it does not exist"))
    serve.add_argument("--customers", type=_customer_count, default=2000,
                       help=_("demo customers (with --demo-if-missing)"))
    serve.add_argument("--seed", type=int, default=1, help=_("demo seed (with --demo-if-missing)"))
    serve.add_argument("--show", action="store_true", help=_("open a browser"))
    serve.add_argument("--bench", action="store_true", help=_("also serve /bench-bare, the benchmark's floor page"))
    serve.add_argument("--notebook", action="append", type=Path, default=None, metavar="PATH",
                       help=_("also serve a notebook (.ipynb) or script that ends in .servable(), at /NAME behind the "
                              "same login (repeatable)"))
    serve.set_defaults(func=cmd_serve)


def _add_demo_command(sub: argparse._SubParsersAction) -> None:
    """The ``demo`` command."""
    demo = sub.add_parser("demo", help=_("fill a new database with seeded demo data"))
    demo.add_argument("--customers", type=_customer_count, default=2000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--today", type=_day, help=_("the date the demo data is made relative to (YYYY-MM-DD)"))
    demo.add_argument("--quiet", action="store_true", help=_("no progress bar"))
    demo.set_defaults(func=cmd_demo)


def _add_users_command(sub: argparse._SubParsersAction) -> None:
    """The ``users`` command."""
    from .models import ROLES

    users = sub.add_parser("users", help=_("add, list and change users"))
    users_sub = users.add_subparsers(dest="action", required=True, parser_class=_Parser)
    users_sub.add_parser("list", help=_("list the users"))
    add = users_sub.add_parser("add", help=_("add a user"))
    add.add_argument("login")
    add.add_argument("--name")
    add.add_argument("--email")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument("--projects-access", action="store_true")
    for p in (add, users_sub.add_parser("set-password", help=_("set a user's password"))):
        if p is not add:
            p.add_argument("login")
        given = p.add_mutually_exclusive_group()  # (both: the one read from stdin was quietly not used)
        given.add_argument("--password", help=_("the password (else asked for, or read with --password-stdin)"))
        given.add_argument("--password-stdin", action="store_true", help=_("read the password from stdin"))
    role = users_sub.add_parser("set-role", help=_("change a user's role"))
    role.add_argument("login")
    role.add_argument("role", choices=ROLES)
    users_sub.add_parser("deactivate", help=_("stop a user from logging in")).add_argument("login")
    users_sub.add_parser("activate", help=_("let a deactivated user log in again")).add_argument("login")
    users.set_defaults(func=cmd_users)


def _add_tokens_command(sub: argparse._SubParsersAction) -> None:
    """The ``tokens`` command."""
    tokens = sub.add_parser("tokens", help=_("make, list and revoke a user's personal API tokens"),
                            description=_("Personal API tokens for /api/v1: a token acts as its user (with the "
                                          "user's role), or only reads when made --read-only. The token is printed "
                                          "once; the database keeps only its SHA-256."))
    tokens_sub = tokens.add_subparsers(dest="action", required=True, parser_class=_Parser)
    make = tokens_sub.add_parser("create", help=_("make a token (printed once, on the last line)"))
    make.add_argument("login", help=_("the user the token acts as"))
    make.add_argument("--name", required=True, help=_("what the token is for, e.g. the script that uses it"))
    make.add_argument("--read-only", action="store_true", help=_("a token that reads and changes nothing"))
    tokens_sub.add_parser("list", help=_("a user's live tokens (never their secrets)")).add_argument("login")
    revoke = tokens_sub.add_parser("revoke", help=_("revoke a token: every request with it is refused"))
    revoke.add_argument("token_id", type=int, help=_("the token's id (from tokens list)"))
    tokens.set_defaults(func=cmd_tokens)


def _add_migrate_command(sub: argparse._SubParsersAction) -> None:
    """The ``migrate`` command."""
    migrate = sub.add_parser("migrate", help=_("copy everything from one database to another (DuckDB ⇄ PostgreSQL)"),
                             description=_("Copy everything from one database to another in one transaction, "
                                           "verified by row counts and invoiced per year. Control characters an "
                                           "older version let into texts (NUL above all, which PostgreSQL cannot "
                                           "store) are cleaned on the way; the report says how many values of which "
                                           "columns."))
    migrate.add_argument("--from", dest="source", required=True, help=_("the database to copy from"))
    migrate.add_argument("--to", dest="target", required=True, help=_("the database to copy into (made if needed)"))
    migrate.add_argument("--replace", action="store_true", help=_("replace what the target holds (else refuse)"))
    migrate.set_defaults(func=cmd_migrate)


def _add_privacy_command(sub: argparse._SubParsersAction) -> None:
    """The ``privacy`` command."""
    privacy = sub.add_parser("privacy", help=_("export or anonymise a contact person's personal data (GDPR)"))
    privacy_sub = privacy.add_subparsers(dest="action", required=True, parser_class=_Parser)
    export_person = privacy_sub.add_parser(
        "export", help=_("write everything held about a contact person: FILE.zip (JSON and vCard), or FILE.json "
                         "with FILE.vcf beside it"))
    export_person.add_argument("contact_id", type=int, help=_("the contact person's id (as in /contact?contact=ID)"))
    export_person.add_argument("file", type=Path, help=_("the file to write: NAME.zip, or NAME.json (+ NAME.vcf)"))
    anonymise = privacy_sub.add_parser(
        "anonymise",
        help=_("replace a contact person's values everywhere (history and search too); cannot be undone"))
    anonymise.add_argument("contact_id", type=int, help=_("the contact person's id"))
    anonymise.add_argument("--yes", action="store_true",
                           help=_("do not ask first (at a terminal it asks; from a script it does not)"))
    for p in (export_person, anonymise):
        p.add_argument("--user", help=_("administrator recorded as doing it (default {actor})").format(actor=CLI_ACTOR))
    privacy.set_defaults(func=cmd_privacy)


def _add_backup_command(sub: argparse._SubParsersAction) -> None:
    """The ``backup`` command."""
    backup = sub.add_parser("backup", help=_("write a consistent copy of the database"))
    backup.add_argument("path", type=Path)
    backup.set_defaults(func=cmd_backup)


def _add_reindex_command(sub: argparse._SubParsersAction) -> None:
    """The ``reindex`` and ``cookie-secret`` commands."""
    secret = sub.add_parser("cookie-secret", help=_("print the secret that signs login cookies (for panel serve "
                                                    "--cookie-secret)"))
    secret.set_defaults(func=cmd_cookie_secret)
    reindex = sub.add_parser("reindex", help=_("build the search index again, sorted (after many edits or imports)"))
    reindex.set_defaults(func=cmd_reindex)


def _add_import_command(sub: argparse._SubParsersAction) -> None:
    """The ``import`` command."""
    imp = sub.add_parser("import", help=_("import customers from a CSV or Excel (.xlsx) file"),
                         description=_("Import customers from a CSV (UTF-8; comma, semicolon or tab) or Excel "
                                       "(.xlsx) file, all or nothing."), epilog=_(IMPORT_EPILOG))
    imp.add_argument("file", type=Path, help=_("the .csv or .xlsx file"))
    imp.add_argument("--dry-run", action="store_true", help=_("check and report only; write nothing"))
    imp.add_argument("--user", help=_("login recorded as the creator (default {actor}); must be a manager or an "
                                      "administrator").format(actor=CLI_ACTOR))
    imp.set_defaults(func=cmd_import)


def _add_export_command(sub: argparse._SubParsersAction) -> None:
    """The ``export`` command."""
    export = sub.add_parser("export", help=_("export customers or contact persons to a .csv or .xlsx file"),
                            description=_("Export every customer (importable again with `customercard import`) or "
                                          "every contact person; the file type follows the suffix."))
    export.add_argument("what", choices=("customers", "contacts"), help=_("what to export"))
    export.add_argument("file", type=Path, help=_("the file to write: NAME.csv or NAME.xlsx"))
    export.set_defaults(func=cmd_export)


def main(argv: Sequence[str] | None = None) -> int:
    argparse._ = _  # argparse's own words in the command line's language (see ARGPARSE_TEXTS)
    argparse.ngettext = ngettext
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    if func is cmd_serve and argv is None:
        # A server started from a command line (not main([...]) inside another program) runs on the C library's
        # allocator, which gives a burst of sessions' memory back (see memory.use_system_allocator).
        from .memory import use_system_allocator

        use_system_allocator()
    try:
        code = func(args)
        sys.stdout.flush()  # here, where a reader that stopped (| head) is caught, not at the interpreter's exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output piped into a reader that stopped (| head): quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except CustomerCardError as exc:
        message = str(exc)
        errors = getattr(exc, "errors", None)
        if errors:
            message = "; ".join(f"{field}: {text}" for field, text in errors.items())
        print(_("customercard: error: {message}").format(message=message), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
