"""The store through a running server: open_store finds the local server that holds the DuckDB file (its discovery
file), and a RemoteStore gives the Store API — the same frames, the same errors, the same rules — over HTTP."""

from __future__ import annotations

import datetime as dt
import http.client
import inspect
import itertools
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import customercard as cc
from customercard.store import Store, open_store, wire
from customercard.store.discovery import ServerFile, file_of, find_server
from customercard.store.remote import KEY_HEADER, LOCAL_ONLY, NOT_REMOTE, REMOTE, RemoteStore

from .conftest import copy_database, free_port, rich_customers, wait_for_port

TOKENS = hasattr(Store, "create_token") and hasattr(Store, "authenticate_token")
needs_tokens = pytest.mark.skipif(not TOKENS, reason="API tokens (store.create_token) come with the token branch")


@pytest.fixture(scope="module")
def served(demo_template, tmp_path_factory):
    """The app served in this process on a free port, on its own copy of the demo database."""
    from customercard import app

    database = copy_database(demo_template, tmp_path_factory.mktemp("remote"))
    store = Store(database)
    port = free_port()
    server = app.make_server(store, port=port, threaded=True, start=True)
    wait_for_port(port)
    yield SimpleNamespace(store=store, server=server, database=database, url=f"http://127.0.0.1:{port}", port=port)
    server.stop()
    store.close()


@pytest.fixture(scope="module")
def remote(served):
    store = open_store(served.database)
    yield store
    store.close()


def raw(served, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One plain HTTP request, as a script would make it: (status, content type, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def nth_customer(served, n: int) -> int:
    """The n-th customer that is not archived (each test changes its own)."""
    return int(served.store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id")["id"].iloc[n])


def key_of(served) -> str:
    return served.server.local_key


# -- finding the server -----------------------------------------------------------------------------------------
def test_open_store_finds_the_running_server_and_says_so(served, capsys):
    with open_store(served.database) as store:
        assert isinstance(store, RemoteStore)
        assert store.location == served.url
    said = capsys.readouterr().out
    assert f"Using the running server at {served.url} ({served.database.name} is in use by it)." in said


def test_the_discovery_file_is_the_owners_alone_and_names_the_server(served):
    path = file_of(served.database)
    assert path == served.database.with_name(served.database.name + ".server.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["url"] == served.url and data["pid"] == os.getpid()
    assert Path(data["database"]) == served.database.resolve() and data["key"] == served.server.local_key


def test_without_a_server_open_store_opens_the_file(demo_template, tmp_path, capsys):
    database = copy_database(demo_template, tmp_path)
    with open_store(database) as store:
        assert type(store) is Store
    assert "running server" not in capsys.readouterr().out
    with open_store(database, through_server=False) as store:
        assert type(store) is Store


def test_a_stale_discovery_file_is_ignored(demo_template, tmp_path):
    database = copy_database(demo_template, tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True,
                          text=True)
    dead = ServerFile(url=f"http://127.0.0.1:{free_port()}", pid=int(gone.stdout), database=str(database.resolve()),
                      key="x").write()
    assert find_server(database) is None and not dead.exists()  # its process is gone: removed
    silent = ServerFile(url=f"http://127.0.0.1:{free_port()}", pid=os.getpid(), database=str(database.resolve()),
                        key="x").write()
    assert find_server(database) is None and silent.exists()  # alive but nothing answers there: ignored
    with open_store(database) as store:
        assert type(store) is Store


def test_a_server_of_another_database_is_not_taken(served, demo_template, tmp_path):
    other = copy_database(demo_template, tmp_path)
    ServerFile(url=served.url, pid=os.getpid(), database=str(other.resolve()), key=served.server.local_key).write()
    assert find_server(other) is None  # the server there answers for its own database only


def test_the_discovery_file_goes_when_the_server_stops(demo_template, tmp_path):
    from customercard import app

    database = copy_database(demo_template, tmp_path)
    store = Store(database)
    port = free_port()
    server = app.make_server(store, port=port, threaded=True, start=True)
    wait_for_port(port)
    assert file_of(database).exists() and find_server(database) is not None
    server.stop()
    store.close()
    assert not file_of(database).exists()


def test_a_store_found_through_the_discovery_file_follows_its_server_started_again(demo_template, tmp_path):
    """A notebook (or `panel serve` of one) keeps its store: after the server was started again every call was
    refused for good ("This key is not this server's … open the store again"). The store reads the discovery
    file again and goes on with the new server's key and address; one made with a token is not redirected."""
    from .serve_process import ServeProcess

    database = copy_database(demo_template, tmp_path)
    with Store(database) as store:
        customer_id = int(store.sql("SELECT min(id) AS id FROM customers")["id"][0])
    server = ServeProcess(database, tmp_path / "data")
    notebook = open_store(database)
    try:
        assert isinstance(notebook, RemoteStore)
        name = notebook.get_customer(customer_id).name
        server.stop()
        server = ServeProcess(database, tmp_path / "data")  # another port, another key
        assert notebook.get_customer(customer_id).name == name  # refused before: the old run's key
        assert notebook.location == server.url
        customer = notebook.get_customer(customer_id)
        customer.phone = "+46 8 600 60 60"
        notebook.save_customer(customer, user="anna")
        assert notebook.history(customer_id).iloc[0]["changed_by"] == "anna"
    finally:
        notebook.close()
        server.stop()
    with Store(database) as store:
        assert store.get_customer(customer_id).phone == "+46 8 600 60 60"


# -- the same API ---------------------------------------------------------------------------------------------
def test_every_public_store_method_is_said_to_travel_or_not():
    public = {name for name in dir(Store) if not name.startswith("_")}
    said = set(REMOTE) | set(NOT_REMOTE) | set(LOCAL_ONLY)
    assert public - said == set(), "say in customercard/store/remote.py whether these travel"
    assert set(REMOTE) <= public


def test_remote_methods_have_the_stores_signatures_and_documentation():
    for name in REMOTE:
        embedded = inspect.getattr_static(Store, name)
        if isinstance(embedded, property):
            assert isinstance(inspect.getattr_static(RemoteStore, name), property)
            continue
        assert inspect.signature(getattr(RemoteStore, name)) == inspect.signature(embedded), name
        assert getattr(RemoteStore, name).__doc__ == embedded.__doc__


def frames_of(store, customer_id: int) -> dict[str, pd.DataFrame]:
    contact_id = int(store.contacts(customer_id, include_inactive=True)["id"].iloc[0])
    return {
        "history": store.history(customer_id), "invoiced_per_year": store.invoiced_per_year(customer_id),
        "invoiced_per_year()": store.invoiced_per_year(), "invoices": store.invoices(customer_id),
        "comments": store.comments(customer_id), "contacts": store.contacts(customer_id, include_inactive=True),
        "projects": store.projects(customer_id), "search": store.search("ab"), "users": store.users(True),
        "list_customers": store.list_customers(limit=50)[0], "find_customers": store.find_customers()[0],
        "events": store.events(customer_id), "opportunities": store.opportunities(), "pipeline": store.pipeline(),
        "pipeline_summary": store.pipeline_summary(), "pipeline_cards": store.pipeline_cards(),
        "relations": store.relations(customer_id), "record_history": store.record_history("contacts", contact_id),
        "list_values": store.list_values("industries"), "admin_log": store.admin_log(),
        "sql": store.sql("SELECT * FROM customers ORDER BY id"),
        "empty": store.sql("SELECT * FROM comments WHERE false"),
        "possible_duplicates": store.possible_duplicates(name=store.get_customer(customer_id).name),
    }


def test_frames_come_back_with_the_same_columns_dtypes_and_values(served, remote):
    customer_id = rich_customers(served.store)[0]
    embedded, travelled = frames_of(served.store, customer_id), frames_of(remote, customer_id)
    for name, frame in embedded.items():
        pd.testing.assert_frame_equal(travelled[name], frame, check_dtype=True, obj=name)
        assert list(travelled[name].dtypes.astype(str)) == list(frame.dtypes.astype(str)), name


def test_plain_results_come_back_as_the_same_values(served, remote):
    customer_id = rich_customers(served.store)[1]
    assert remote.list_customers(limit=5)[1] == served.store.list_customers(limit=5)[1]
    assert remote.customer_names([customer_id]) == served.store.customer_names([customer_id])
    assert remote.settings().values() == served.store.settings().values()
    assert remote.choices() == served.store.choices()
    assert remote.schema_version == served.store.schema_version
    preview, embedded = remote.merge_preview(customer_id, customer_id + 1), served.store.merge_preview(customer_id,
                                                                                                        customer_id + 1)
    assert preview.keys() == embedded.keys()
    for key, value in embedded.items():
        assert (preview[key].values() == value.values()) if isinstance(value, cc.Customer) else preview[key] == value
    assert remote.can("vera", "write") is False and remote.can("anna", "write") is True
    customer = remote.get_customer(customer_id)
    assert customer.values() == served.store.get_customer(customer_id).values()
    assert customer.param["industry"].objects == served.store.choices().allowed("industries")  # offered as embedded


def test_a_users_password_hash_stays_on_the_server(remote, served):
    assert served.store.get_user("anna").password_hash
    assert remote.get_user("anna").password_hash == ""


def test_save_customer_validates_checks_the_version_and_records_who(served, remote):
    customer_id = rich_customers(served.store)[2]
    customer = remote.get_customer(customer_id)
    customer.phone = "+46 8 123 45 67"
    saved = remote.save_customer(customer, user="erik")
    assert saved is customer and customer.version == served.store.get_customer(customer_id).version
    assert customer.updated_by == "erik"
    history = remote.history(customer_id)
    assert (history.iloc[0]["changed_by"], history.iloc[0]["field"]) == ("erik", "phone")

    customer.email = "not an address"
    with pytest.raises(cc.ValidationError) as refused:
        remote.save_customer(customer, user="erik")
    assert "email" in refused.value.errors and "e-mail" in refused.value.errors["email"]
    customer.email = ""

    stale = remote.get_customer(customer_id)
    other = remote.get_customer(customer_id)
    other.nickname = "Someone else's"
    remote.save_customer(other, user="maria")
    stale.nickname = "Mine"
    with pytest.raises(cc.ConflictError) as conflict:
        remote.save_customer(stale, user="erik")
    assert [(c.field, c.stored, c.attempted, c.changed_by) for c in conflict.value.conflicts] == [
        ("nickname", "Someone else's", "Mine", "maria")]
    assert conflict.value.stored_version == other.version


def test_a_write_without_a_user_is_the_configured_users(served, remote):
    customer_id = rich_customers(served.store)[3]
    remote.add_comment(customer_id, "Written from a notebook beside the server.")
    assert remote.comments(customer_id).iloc[0]["created_by"] == os.environ["CUSTOMERCARD_USER"] == "anna"


def test_errors_are_the_same_classes(served, remote):
    with pytest.raises(cc.NotFound):
        remote.get_customer(10**9)
    customer = remote.get_customer(rich_customers(served.store)[0])
    customer.phone = "+46 8 765 43 21"
    with pytest.raises(cc.PermissionDenied, match="vera"):
        remote.save_customer(customer, user="vera")
    with pytest.raises(cc.PermissionDenied):
        remote.save_customer(customer, user="nobody")
    with pytest.raises(cc.CustomerCardError, match="not available through a server"):
        remote.hold_search_in_memory()
    with pytest.raises(TypeError):
        remote.get_customer()  # bound to the store's signature, here


def test_a_value_of_the_wrong_kind_is_refused_for_its_parameter_not_a_failure_of_the_server(served, remote):
    """A text where a query, a customer or a login goes reached the store and failed inside it (the server's 500,
    "the server failed to do this"): it is the caller's mistake, a ValidationError naming the parameter — and a
    call whose values fit still works, texts the store reads as dates among them."""
    for call, parameter in ((lambda: remote.find_customers(query="x"), "query"),
                            (lambda: remote.save_customer(customer="x", user="anna"), "customer"),
                            (lambda: remote.pipeline_summary(owner=-1), "owner"),
                            (lambda: remote.customer_names(ids="x"), "ids"),
                            (lambda: remote.sql("SELECT 1 AS one", timeout="x"), "timeout")):
        with pytest.raises(cc.ValidationError) as refused:
            call()
        assert parameter in refused.value.errors, refused.value.errors
    customer_id = rich_customers(served.store)[0]
    assert len(remote.timeline(customer_id, since="2020-01-01")) > 0
    assert remote.sql("SELECT 1 AS one", timeout=5)["one"][0] == 1
    # a customer's id as text, as the store in the analyst's own process takes it (it was refused through a server)
    assert remote.get_customer(str(customer_id)).id == served.store.get_customer(str(customer_id)).id == customer_id
    assert len(remote.contacts(f" {customer_id} ")) == len(served.store.contacts(customer_id))
    with pytest.raises(cc.ValidationError) as refused:
        remote.get_customer("5x")
    assert "customer_id" in refused.value.errors
    key = {KEY_HEADER: key_of(served)}
    for wanted in ({"$data": "DuplicateQuery", "fields": [1]}, {"$data": "DuplicateQuery"},
                   {"$record": "Customer", "values": [1]}):  # a tagged value of the wrong shape: 400, not a 500
        status, _kind, answer = raw(served, "POST", "/api/v1/rpc/duplicates_of",
                                    json.dumps({"arguments": {"wanted": wanted}}).encode(),
                                    {**key, "Content-Type": "application/json"})
        assert status == 400, (wanted, status, answer)


def test_sql_is_read_only_with_the_same_check(served, remote):
    for query in ("SELECT * FROM read_csv('/etc/passwd')", "DELETE FROM customers",
                  "SELECT current_setting('home_directory')"):
        with pytest.raises(cc.CustomerCardError) as embedded:
            served.store.sql(query)
        with pytest.raises(cc.CustomerCardError) as travelled:
            remote.sql(query)
        assert str(travelled.value) == str(embedded.value)
    assert remote.sql("SELECT count(*) AS n FROM customers WHERE id > ?", [0])["n"][0] > 0


def test_a_large_frame_travels_as_arrow(served):
    status, kind, body = raw(served, "POST", "/api/v1/rpc/sql",
                             wire.dumps({"arguments": {"query": "SELECT * FROM range(100000) t(i)", "params": None}}),
                             {KEY_HEADER: key_of(served)})
    assert status == 200 and kind == wire.ARROW_TYPE
    frame = wire.frame_from_arrow(body)
    assert len(frame) == 100_000 and list(frame.columns) == ["i"]


def test_a_query_answering_more_rows_than_a_server_holds_is_refused(served, remote):
    """No request can hold the server: a query of a thousand billion rows is refused once it has answered the
    server's most (read a chunk at a time, nothing kept), and the server answers on."""
    from customercard.store.readonly import SERVER_SQL_ROWS

    with pytest.raises(cc.CustomerCardError, match="rows: narrow the query"):
        remote.sql("SELECT * FROM range(1000000000000) t(i)")
    assert len(remote.sql("SELECT * FROM range(?) t(i)", [SERVER_SQL_ROWS // 10])) == SERVER_SQL_ROWS // 10
    assert remote.sql("SELECT count(*) AS n FROM range(1000000000) t(i)")["n"][0] == 1_000_000_000


def test_records_given_are_changed_as_embedded(served, remote):
    customer = remote.new_customer()
    customer.name = "Remote Analytics AB"
    created = remote.create_customer(customer, user="anna")
    assert created is customer and customer.id is not None and customer.number is not None
    assert served.store.get_customer(customer.id).name == "Remote Analytics AB"
    made = remote.create_customer(user="anna", name="Second Remote AB")
    assert made.id != customer.id


def test_committed_changes_are_told_to_the_remote_stores_subscribers(served, remote):
    heard = []
    stop = remote.changes.subscribe(heard.append, weak=False)
    customer_id = rich_customers(served.store)[4]
    remote.add_comment(customer_id, "Heard?", user="anna")
    stop()
    assert [(c.kind, c.customer_id) for c in heard] == [("comment", customer_id)]


def test_the_timeline_comes_back_with_its_changes_as_lists_of_tuples(served, remote):
    customer_id = rich_customers(served.store)[0]
    served.store.save_customer(_with_phone(served.store.get_customer(customer_id), "+46 8 555 01 02"), user="anna")
    embedded, travelled = served.store.timeline(customer_id), remote.timeline(customer_id)
    plain = embedded.drop(columns="changes")
    pd.testing.assert_frame_equal(travelled.drop(columns="changes"), plain, check_dtype=True)
    assert list(embedded["changes"]) == list(travelled["changes"])  # lists of (field, old, new) tuples
    assert any(isinstance(changes, list) and changes for changes in travelled["changes"])


def _with_phone(customer, phone: str):
    customer.phone = phone
    return customer


def test_the_customer_card_works_on_a_remote_store(served, remote):
    customer_id = rich_customers(served.store)[5]
    card = cc.CustomerCard(store=remote, customer_id=customer_id)
    for section in card.sections:  # every section draws from the remote store, the Activity's changes too
        section.open()
        assert "could not be shown" not in section.view.html, section.key
    assert card.customer.name == served.store.get_customer(customer_id).name and card.user == "anna"
    card.customer.visit_address.city = "Västerås"
    card.save()
    assert served.store.get_customer(customer_id).visit_address.city == "Västerås"
    assert remote.history(customer_id).iloc[0]["changed_by"] == "anna"


def test_a_card_through_the_server_hears_others_saves_and_saves_without_a_false_conflict(served):
    """A notebook's card on the running server's store: someone else's save (a page, the API) reaches it as it
    reaches an open page — it heard only its own calls, and saving an untouched field then met a conflict naming
    a field the analyst never changed."""
    from .conftest import eventually

    customer_id = rich_customers(served.store)[6]
    with open_store(served.database) as notebook:
        assert isinstance(notebook, RemoteStore)
        card = cc.CustomerCard(store=notebook, customer_id=customer_id)
        heard: list = []
        notebook.changes.subscribe(heard.append, weak=False)
        other = served.store.get_customer(customer_id)  # a save on the server, as a page's
        other.phone = "+46 8 555 010 10"
        served.store.save_customer(other, user="erik")
        eventually(lambda: card.customer.phone == "+46 8 555 010 10", timeout=15)
        eventually(lambda: any(c.kind == "customer" and c.customer_id == customer_id and c.by == "erik"
                               for c in heard))
        card.customer.website = "https://heard.example"
        card.save()  # on the version it heard of: no conflict
        saved = served.store.get_customer(customer_id)
        assert (saved.phone, saved.website) == ("+46 8 555 010 10", "https://heard.example")
        eventually(lambda: len([c for c in heard if c.by == "anna"]) == 1)
        later = served.store.get_customer(rich_customers(served.store)[7])
        later.phone = "+46 8 555 010 20"
        served.store.save_customer(later, user="erik")
        eventually(lambda: len([c for c in heard if c.by == "erik"]) == 2)  # what came after it, heard
        assert len([c for c in heard if c.by == "anna"]) == 1  # its own save told once, not again by the server


def test_backup_through_the_server_and_from_the_command_line(served, remote, tmp_path, capsys):
    from customercard.cli import main

    copy = remote.backup(tmp_path / "copy.duckdb")
    with Store(copy) as backed_up:
        assert backed_up.sql("SELECT count(*) AS n FROM customers")["n"][0] == \
            served.store.sql("SELECT count(*) AS n FROM customers")["n"][0]
    assert main(["--db", str(served.database), "backup", str(tmp_path / "cli.duckdb")]) == 0
    said = capsys.readouterr().out
    assert f"made by the running server at {served.url}" in said and (tmp_path / "cli.duckdb").exists()
    assert main(["--db", str(served.database), "backup", str(tmp_path / "cli.duckdb")]) == 1  # exists already


# -- who may call -----------------------------------------------------------------------------------------------
def test_no_credential_or_a_wrong_key_is_refused(served):
    body = wire.dumps({"arguments": {"customer_id": 1}})
    for headers in ({}, {KEY_HEADER: "not-the-key"}, {"Authorization": "Basic YW5uYTpkZW1v"}):
        status, _kind, answer = raw(served, "POST", "/api/v1/rpc/get_customer", body, headers)
        assert status == 401 and json.loads(answer)["error"]["type"] == "PermissionDenied"
    status, _kind, _answer = raw(served, "GET", "/api/v1/rpc", None, {})
    assert status == 401
    with pytest.raises(cc.PermissionDenied):
        RemoteStore(served.url, key="not-the-key")


def test_the_browsers_login_cookie_does_not_reach_the_store_api(served):
    """A page of another site can make a browser send its cookies, never the key or a token: cookies count nothing
    here."""
    import http.cookiejar
    import urllib.request

    from .conftest import form_login

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form_login(opener, served.url, "anna")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    status, _kind, _answer = raw(served, "POST", "/api/v1/rpc/add_comment",
                                 wire.dumps({"arguments": {"customer_id": 1, "body": "x", "user": "anna"}}),
                                 {"Cookie": cookie, "Content-Type": "application/json"})
    assert status == 401


def test_a_local_write_must_say_who_acts(served):
    status, _kind, answer = raw(served, "POST", "/api/v1/rpc/add_comment",
                                wire.dumps({"arguments": {"customer_id": rich_customers(served.store)[0],
                                                          "body": "Who am I?"}}),
                                {KEY_HEADER: key_of(served)})
    assert status == 403 and "user=" in json.loads(answer)["error"]["message"]


def test_only_methods_that_travel_are_called(served):
    for name in ("shared_secret", "log_in", "require", "_acting", "db", "close"):
        status, _kind, _answer = raw(served, "POST", f"/api/v1/rpc/{name}", wire.dumps({"arguments": {}}),
                                     {KEY_HEADER: key_of(served)})
        assert status in (400, 404), name


def test_unknown_types_are_refused(served):
    for value in ({"$record": "Store", "values": "{}"}, {"$data": "Config", "fields": {}}, {"$eval": "1"}):
        status, _kind, answer = raw(served, "POST", "/api/v1/rpc/get_customer",
                                    wire.dumps({"arguments": {"customer_id": value}}), {KEY_HEADER: key_of(served)})
        assert status == 400 and json.loads(answer)["error"]["type"] == "CustomerCardError"


def test_messages_come_in_the_callers_language(served):
    status, _kind, answer = raw(served, "POST", "/api/v1/rpc/get_customer", wire.dumps({"arguments": {
        "customer_id": 10**9}}), {KEY_HEADER: key_of(served), "Accept-Language": "sv"})
    assert status == 404 and "Ingen kund" in json.loads(answer)["error"]["message"]


def test_without_token_support_a_bearer_token_is_refused_plainly(served):
    if TOKENS:
        return  # with tokens, test_tokens_* below say what a token does
    with pytest.raises(cc.PermissionDenied, match="does not take API tokens"):
        cc.connect(served.url, token="cc_not_a_token")


# -- API tokens: the server's side, with a stand-in for store.authenticate_token ------------------------------
_TOKEN_NAMES = itertools.count()


@pytest.fixture
def stand_in_tokens(served):
    """Real tokens of the served store, by a name each: 'erik-rw', 'erik-ro' (read-only), 'vera-rw', 'admin-rw' →
    its secret."""
    made = {}
    for name, login, read_only in (("erik-rw", "erik", False), ("erik-ro", "erik", True), ("vera-rw", "vera", False),
                                   ("admin-rw", "admin", False)):
        made[name] = served.store.create_token(login, f"remote test {name} {next(_TOKEN_NAMES)}",
                                               read_only=read_only, user="system:test")[1]
    return made


def test_a_token_acts_as_its_user_and_no_one_else(served, stand_in_tokens):
    customer_id = nth_customer(served, 28)
    with cc.connect(served.url, token=stand_in_tokens["erik-rw"]) as store:
        assert store.login == "erik" and not store.read_only
        customer = store.get_customer(customer_id)
        customer.phone = "+46 8 222 33 44"
        store.save_customer(customer)
        assert store.history(customer_id).iloc[0]["changed_by"] == "erik"
        store.add_comment(customer_id, "From erik's script.")
        assert store.comments(customer_id).iloc[0]["created_by"] == "erik"
        with pytest.raises(cc.PermissionDenied, match="acts as"):
            store.add_comment(customer_id, "As anna?", user="anna")
        with pytest.raises(cc.PermissionDenied):
            store.prefs("anna")  # another user's things
        assert isinstance(store.prefs("erik"), dict)
        with pytest.raises(cc.PermissionDenied):
            store.admin_log()  # administrators only
        with pytest.raises(cc.PermissionDenied):
            store.backup("/tmp/never.duckdb")  # the local key only
        card = cc.CustomerCard(store=store, customer_id=customer_id)
        assert card.user == "erik"
    with cc.connect(served.url, token=stand_in_tokens["admin-rw"]) as store:
        assert not store.admin_log().empty and isinstance(store.prefs("anna"), dict)


def test_a_read_only_token_and_a_viewers_token_only_read(served, stand_in_tokens):
    customer_id = nth_customer(served, 29)
    for secret in (stand_in_tokens["erik-ro"], stand_in_tokens["vera-rw"]):
        with cc.connect(served.url, token=secret) as store:
            customer = store.get_customer(customer_id)
            customer.phone = "+46 8 444 55 66"
            with pytest.raises(cc.PermissionDenied):
                store.save_customer(customer)
            with pytest.raises(cc.PermissionDenied):
                store.add_comment(customer_id, "Not allowed.")
            assert not store.history(customer_id).empty
            assert not store.sql("SELECT id FROM customers LIMIT 3").empty


def test_the_card_through_any_token_draws_every_section_and_a_read_only_one_offers_no_edit(served, stand_in_tokens):
    """Through a manager's or a viewer's token "Groups and log" could not be shown (it asked the server for an
    administrator's read); through a read-only token the card offered Edit and Merge, refused at every save, and
    folding a section raised (it keeps the fold among the user's preferences, which the token may not write)."""
    customer_id = rich_customers(served.store)[3]
    for name in ("erik-rw", "vera-rw", "erik-ro"):
        with cc.connect(served.url, token=stand_in_tokens[name]) as store:
            card = cc.CustomerCard(store=store, customer_id=customer_id)
            for section in card.sections:
                section.open()
                assert "could not be shown" not in section.view.html, (name, section.key)
            groups = card.section("groups").view.html
            assert "Segmentation" in groups and "Log" in groups
            writes = name == "erik-rw"
            assert card.context.can_edit is writes, name
            assert store.can(store.login, "write") is writes and store.can(store.login, "read")
            # about another user: what that user may do (a manager writes, a viewer does not), whatever the token
            assert store.can("anna", "write") and not store.can("vera", "write") and store.can("vera", "read")
            card.section("groups").view.collapsed = True  # a fold: made, remembered where the token may write
            assert card.section("groups").collapsed
    assert served.store.prefs("vera").get("card.collapsed.groups") is True  # a viewer keeps her own folds


def test_a_record_naming_stored_values_that_are_not_there_writes_no_invented_history(served, remote):
    """A record that travelled from a notebook said which stored values the model had refused, and the server
    believed it: "phone: INVENTED → +46 …" went into the history under the user's name, for a phone never changed
    and never holding that. What the row holds is the server's to read."""
    def claiming(customer, field: str, text: str):
        """The record as a client can send it: saying the row held ``text`` in ``field``, to be written anyway."""
        data = wire.encode_record(customer)
        data["unreadable"], data["rewrite"] = {field: text}, [field]
        return wire.decode_record(data)

    customer_id = nth_customer(served, 33)
    before = len(served.store.history(customer_id))
    version = served.store.get_customer(customer_id).version
    claimed = claiming(remote.get_customer(customer_id), "phone", "INVENTED OLD VALUE")
    assert claimed.unreadable == {"phone": "INVENTED OLD VALUE"}
    remote.save_customer(claimed, user="anna")
    assert len(served.store.history(customer_id)) == before
    assert served.store.get_customer(customer_id).version == version
    assert "INVENTED OLD VALUE" not in set(served.store.history(customer_id)["old_value"].dropna())
    # the same in the server's own process
    served.store.save_customer(claiming(served.store.get_customer(customer_id), "website", "https://invented.example"),
                               user="anna")
    assert len(served.store.history(customer_id)) == before


def test_the_card_as_of_a_day_through_the_server_draws_every_section(served, remote):
    """Through the running server (the notebook's default) the card as of a day refused "Groups and log" for
    everyone: a read only administrators may make was taken for a write."""
    customer_id = rich_customers(served.store)[4]
    day = served.store.firm_today() - dt.timedelta(days=1)
    card = cc.CustomerCard(store=remote, customer_id=customer_id, user="anna", as_of=day)
    for section in card.sections:
        section.open()
        assert "could not be shown" not in section.view.html, section.key
    assert "Segmentation" in card.section("groups").view.html


def test_an_unknown_token_is_refused(served, stand_in_tokens):
    with pytest.raises(cc.PermissionDenied, match="not valid"):
        cc.connect(served.url, token="guess")
    status, _kind, answer = raw(served, "POST", "/api/v1/rpc/get_customer", wire.dumps({"arguments": {
        "customer_id": 1}}), {"Authorization": "Bearer guess"})
    assert status == 401 and json.loads(answer)["error"]["type"] == "PermissionDenied"


# -- API tokens: the real ones (once the store has them) ------------------------------------------------------
@needs_tokens
def test_a_real_token_acts_as_its_user(served):
    _token, secret = served.store.create_token("erik", "notebook", user="erik")
    customer_id = nth_customer(served, 26)
    with cc.connect(served.url, token=secret) as store:
        assert store.login == "erik"
        customer = store.get_customer(customer_id)
        customer.phone = "+46 8 111 22 33"
        store.save_customer(customer)
        assert store.history(customer_id).iloc[0]["changed_by"] == "erik"
        with pytest.raises(cc.PermissionDenied):
            store.save_customer(customer, user="anna")  # a token cannot act as someone else
        with pytest.raises(cc.PermissionDenied):
            store.prefs("anna")


@needs_tokens
def test_real_read_only_and_viewers_tokens_only_read(served):
    customer_id = nth_customer(served, 27)
    for login, read_only in (("erik", True), ("vera", False)):
        _token, secret = served.store.create_token(login, "reader", read_only=read_only, user=login)
        with cc.connect(served.url, token=secret) as store:
            customer = store.get_customer(customer_id)
            customer.phone = "+46 8 444 55 66"
            with pytest.raises(cc.PermissionDenied):
                store.save_customer(customer)
            assert not store.history(customer_id).empty


def test_an_administrators_read_only_token_reads_the_admin_log_and_the_outbox_but_retries_nothing(served):
    """admin_log() and outbox() only read: an administrator's read-only token was refused them ("may only read")."""
    _token, secret = served.store.create_token("admin", "auditor", read_only=True, user="admin")
    with cc.connect(served.url, token=secret) as store:
        assert isinstance(store.admin_log(limit=5), pd.DataFrame)
        assert isinstance(store.outbox(), pd.DataFrame)
        with pytest.raises(cc.PermissionDenied, match="only read"):
            store.retry_outbox(1)
    _token, secret = served.store.create_token("erik", "not an admin", read_only=True, user="erik")
    with cc.connect(served.url, token=secret) as store, pytest.raises(cc.PermissionDenied):
        store.admin_log(limit=5)


@needs_tokens
def test_a_wrong_real_token_is_refused(served):
    with pytest.raises(cc.PermissionDenied):
        cc.connect(served.url, token="cc_wrong")
    status, _kind, _answer = raw(served, "POST", "/api/v1/backup", wire.dumps({"path": "/tmp/x.duckdb"}),
                                 {"Authorization": "Bearer cc_wrong"})
    assert status == 401


def test_the_changes_long_poll_refuses_a_wait_that_is_no_number_and_restarts_another_numbering(served):
    """``wait=nan`` reached the event loop's timers (a NaN among them upsets every timer's order); a client that
    carries another process's numbering (nginx sent it elsewhere) is told where this one stands, with nothing."""
    headers = {KEY_HEADER: key_of(served)}
    for wait in ("nan", "inf-ish", "-nan"):
        status, _kind, _body = raw(served, "GET", f"/api/v1/rpc/changes?after=0&wait={wait}", headers=headers)
        assert status == 400, wait
    status, _kind, body = raw(served, "GET", "/api/v1/rpc/changes?after=-1", headers=headers)
    here = json.loads(body)
    assert status == 200 and here["changes"] == [] and here["epoch"]
    status, _kind, body = raw(served, "GET", f"/api/v1/rpc/changes?after={here['last'] + 1000}&epoch=elsewhere&wait=5",
                              headers=headers)
    answer = json.loads(body)
    assert (status, answer["epoch"], answer["changes"]) == (200, here["epoch"], [])
    status, _kind, _body = raw(served, "GET", "/api/v1/rpc/changes?after=-1")  # no credential
    assert status == 401


def test_the_store_as_of_a_day_through_the_server_reads_as_the_file_does(served, remote):
    """store.as_of(day) runs unchanged through the server (a notebook's card as of a day too): the customer and its
    records as they stood, the same as the file's; writes refused."""
    import datetime as dt

    from customercard.ui.card import CustomerCard

    customer_id = nth_customer(served, 31)
    before = served.store.firm_today() - dt.timedelta(days=1)
    changed = served.store.get_customer(customer_id)
    changed.nickname = "Changed today"
    served.store.save_customer(changed, user="anna")
    here, there = served.store.as_of(before), remote.as_of(before)
    assert there.get_customer(customer_id).nickname == here.get_customer(customer_id).nickname != "Changed today"
    for read in ("comments", "contacts", "relations", "invoiced_per_year", "history"):
        mine, theirs = getattr(here, read)(customer_id), getattr(there, read)(customer_id)
        assert len(mine) == len(theirs), read
    with pytest.raises(cc.PermissionDenied):
        there.save_customer(there.get_customer(customer_id), user="anna")
    assert not there.can("anna", "write") and there.can("anna", "read")
    card = CustomerCard(store=remote, customer_id=customer_id, user="anna", as_of=before)
    assert card.customer.nickname != "Changed today" and not card.context.can_edit


def test_the_invoices_behind_a_past_days_bars_through_the_server_follow_a_merge_since(served, remote):
    """A notebook beside the server read a day before a merge: the duplicate's bars were full over empty invoice
    lists and the survivor's lists held the duplicate's invoices on top of its bars (today's invoices by date)."""
    import datetime as dt

    with_invoices = [int(i) for i in served.store.sql(
        "SELECT customer_id FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE NOT c.archived "
        "GROUP BY customer_id HAVING count(*) > 2 ORDER BY customer_id")["customer_id"]]
    survivor, other = with_invoices[-2], with_invoices[-1]
    before = served.store.firm_today() - dt.timedelta(days=1)
    served.store.merge_customers(survivor, other, user="anna")
    here, there = served.store.as_of(before), remote.as_of(before)
    for customer_id in (survivor, other):
        bars = there.invoiced_per_year(customer_id)
        assert bars.equals(here.invoiced_per_year(customer_id))
        for year, amount in zip(bars["year"], bars["amount"], strict=True):
            listed = there.invoices(customer_id, year=int(year))
            assert round(float(listed["amount_base"].sum()), 2) == round(float(amount), 2), (customer_id, year)
            assert listed["id"].tolist() == here.invoices(customer_id, year=int(year))["id"].tolist()
    assert not remote.invoices_as_of(other, before).empty and remote.invoices(other).empty  # moved since


def test_a_value_the_model_refuses_travels_as_unreadable_and_a_save_through_the_server_leaves_it(served, remote):
    """A notebook's store through the server got the default (25) with no word of the stored 250, and a save of the
    phone alone wrote 250 → 25 under the user's name. An administrator's exchange rates that leave out a currency
    open opportunities are in are refused (they were added up one to one)."""
    customer_id = nth_customer(served, 31)
    served.store.db.execute("UPDATE customers SET vat_rate = 250 WHERE id = ?", [customer_id])
    served.store.forget_cached()
    try:
        customer = remote.get_customer(customer_id)
        assert list(customer.unreadable) == ["invoicing.vat_rate"]
        customer.phone = "+46 8 313 13 13"
        remote.save_customer(customer, user="anna")
        assert served.store.db.row("SELECT vat_rate FROM customers WHERE id = ?", [customer_id])[0] == 250
        again = remote.get_customer(customer_id)
        again.invoicing.vat_rate = 12.0
        remote.save_customer(again, user="anna")
        assert served.store.get_customer(customer_id).invoicing.vat_rate == 12.0
    finally:
        served.store.db.execute("UPDATE customers SET vat_rate = 25 WHERE id = ?", [customer_id])
        served.store.forget_cached()

    used = set(served.store.opportunities(status="pipeline")["currency"]) - {served.store.settings().base_currency}
    assert used  # the demo's open opportunities are in other currencies too
    settings = remote.settings()
    kept = settings.exchange_rates
    settings.exchange_rates = ", ".join(part for part in kept.split(",") if part.split()[0] not in used)
    with pytest.raises(cc.ValidationError, match="Open opportunities are in"):
        remote.save_settings(settings, user="admin")
    assert served.store.settings().exchange_rates == kept


def test_a_token_s_slow_queries_hold_neither_the_api_nor_others_queries(served):
    """A viewer's token sent a dozen slow queries at once: they took every thread of the pool logins and /api/v1
    run on, and another user's GET /api/v1/me waited 7 s. Queries run on threads of their own, and a token's
    second query while its first runs is refused (429, Retry-After), so others are answered at once."""
    import concurrent.futures
    import time

    store = served.store
    vera = {"Authorization": "Bearer " + store.create_token("vera", "tests: slow", read_only=True, user="vera")[1]}
    erik = {"Authorization": "Bearer " + store.create_token("erik", "tests: quick", read_only=True, user="erik")[1]}
    slow = wire.dumps({"arguments": {"query": "SELECT count(*) FROM range(1000000000000) a, range(10) b",
                                     "timeout": 4}})
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        first = pool.submit(raw, served, "POST", "/api/v1/rpc/sql", slow, {**vera, "Content-Type": "application/json"})
        time.sleep(0.5)
        more = [pool.submit(raw, served, "POST", "/api/v1/rpc/sql", slow, {**vera, "Content-Type": "application/json"})
                for _ in range(7)]
        time.sleep(0.3)
        started = time.monotonic()
        me = raw(served, "GET", "/api/v1/me", headers=erik)
        quick = raw(served, "POST", "/api/v1/rpc/sql", wire.dumps({"arguments": {"query": "SELECT 1 AS one"}}),
                    {**erik, "Content-Type": "application/json"})
        answered = time.monotonic() - started
        refused = [future.result() for future in more]
        assert first.result()[0] == 400 and b"seconds" in first.result()[2]  # stopped at its own time limit
    assert me[0] == 200 and quick[0] == 200 and answered < 2.0, (me[0], quick[0], answered)
    assert all(status == 429 for status, _kind, _body in refused), [r[0] for r in refused]
    assert b"still running" in refused[0][2]
