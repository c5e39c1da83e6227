"""Item 8: PostgreSQL beside DuckDB. A throw-away cluster (``tests.postgres_server.TempPostgres``) filled from a
private copy of the DuckDB benchmark database with the product's own ``customercard migrate``; then card build,
the super search and saves on both stores in this process, interleaved; then card opens per second over HTTP
against ``customercard serve --num-procs N`` on PostgreSQL."""

from __future__ import annotations

import gc
import html
import http.client
import os
import random
import re
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .browser import Server, free_port
from .common import ACTING_USER, PYTHON, ROOT, SEED, copy_db, say, summary, timed_cpu
from .report import figure

PASSWORD = "demo"  # the documented demo password
DATABASE = "customercard_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
STORES = ("duckdb", "postgresql")


def customercard_command() -> list[str]:
    """The installed ``customercard`` command next to this interpreter (``.venv/bin/customercard``)."""
    script = Path(PYTHON).parent / "customercard"
    return [str(script)] if script.exists() else [PYTHON, "-m", "customercard"]


# -- the cluster -------------------------------------------------------------------------------------------
class Cluster:
    """The tests' throw-away cluster; stopped with ``pg_ctl stop -m fast`` (its own pid file), then by the
    class's own stop (the runuser/postgres pid), also when the run is interrupted."""

    def __init__(self) -> None:
        from tests.postgres_server import TempPostgres

        self.pg = TempPostgres()

    def __enter__(self) -> Cluster:
        try:
            self.pg.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pg.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        pg = self.pg
        if pg.process is not None and pg.process.poll() is None and self.postmaster_pid:
            try:
                subprocess.run(pg._command([str(pg.bin / "pg_ctl"), "stop", "-D", str(pg.data), "-m", "fast",
                                            "-w", "-t", "60"]), capture_output=True, timeout=90, check=False)
            except subprocess.TimeoutExpired:
                pass
        pg.stop()  # waits for (or kills) the process it started and removes the folder

    def facts(self, url: str) -> dict[str, Any]:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            get = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
            return {"version": get("SHOW server_version"), "shared_buffers": get("SHOW shared_buffers"),
                    "fsync": get("SHOW fsync"), "synchronous_commit": get("SHOW synchronous_commit"),
                    "full_page_writes": get("SHOW full_page_writes"), "max_connections": get("SHOW max_connections"),
                    "bytes": int(get("SELECT pg_database_size(current_database())"))}


def copy_into(source: Path, url: str, log: Path) -> dict[str, Any]:
    """``customercard migrate --from source --to url`` as a subprocess: its seconds, and the seconds of each
    table (from its progress lines)."""
    command = [*customercard_command(), "migrate", "--from", str(source), "--to", url]
    env = {**os.environ}
    env.pop("CUSTOMERCARD_DB", None)
    started = time.monotonic()
    marks: list[tuple[str, float]] = []
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            for line in proc.stdout:
                out.write(line)
                now = time.monotonic() - started
                found = re.match(r"\s+(\w+)…", line)
                if found:
                    if marks and now - marks[-1][1] > 5:
                        say(f"   … {marks[-1][0]} took {now - marks[-1][1]:.0f} s")
                    marks.append((found.group(1), now))
                elif line.startswith("Copied"):
                    marks.append(("(closing)", now))
            proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: stop it by its own pid
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"customercard migrate failed (exit {proc.returncode}):\n{log.read_text()[-3000:]}")
    # a table's time runs to the next progress line; the last table's includes the sequences, the verification
    # (row counts, invoiced per year on both sides) and the commit, which come before the summary line
    tables: dict[str, float] = {"(start, open both, schema on PostgreSQL)": marks[0][1] if marks else seconds}
    tables_only = [m for m in marks if not m[0].startswith("(")]
    for index, ((name, at), nxt) in enumerate(zip(marks, [*marks[1:], ("", seconds)], strict=True)):
        last = index == len(tables_only) - 1
        label = f"{name} + sequences, verification, commit" if last else name
        tables[label] = nxt[1] - at
    summary_line = next((line for line in log.read_text().splitlines() if line.startswith("Copied")), "")
    rows = re.search(r"Copied (\d+) rows", summary_line)
    return {"seconds": seconds, "tables_s": tables, "summary": summary_line, "rows": int(rows.group(1)) if rows else 0}


def vacuum_analyze(url: str) -> float:
    """``VACUUM (ANALYZE)`` after the bulk load, as autovacuum would do within a minute or so: seconds."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


# -- in this process: the two stores side by side ------------------------------------------------------------
def _order(index: int) -> tuple[str, ...]:
    return STORES if index % 2 == 0 else tuple(reversed(STORES))


def compare_builds(stores: dict[str, Any], customers: list[int], warmup: int = 5) -> dict[str, Any]:
    """``inprocess.build_card`` for the same customers on both stores, the order swapping every pair."""
    from .inprocess import _hv_ready, build_card

    _hv_ready()
    for name in STORES:
        for customer_id in customers[:warmup]:
            build_card(stores[name], customer_id)
    gc.collect()
    ms: dict[str, list[float]] = {n: [] for n in STORES}
    cpu: dict[str, list[float]] = {n: [] for n in STORES}
    models: dict[str, list[int]] = {n: [] for n in STORES}
    for index, customer_id in enumerate(customers):
        for name in _order(index):
            elapsed, count, cpu_ms = build_card(stores[name], customer_id)
            ms[name].append(elapsed)
            cpu[name].append(cpu_ms)
            models[name].append(count)
    ratios = [p / d for p, d in zip(ms["postgresql"], ms["duckdb"], strict=True)]
    return {**{n: {"ms": summary(ms[n]), "cpu_ms": summary(cpu[n]), "models": summary(models[n]), "samples": ms[n]}
               for n in STORES},
            "pair_ratio": summary(ratios), "same_models": models["duckdb"] == models["postgresql"],
            "cards": len(customers)}


def compare_search(stores: dict[str, Any], queries: list[dict[str, Any]], passes: int,
                   warmup: int = 20) -> dict[str, Any]:
    """``store.search(q)`` for every query on both stores, interleaved (the order swaps every query; the second
    pass runs the queries in reverse), and whether both give the same customers."""
    for name in STORES:
        for query in queries[:warmup]:
            stores[name].search(query["q"])
    ms: dict[str, list[float]] = {n: [] for n in STORES}
    cpu: dict[str, list[float]] = {n: [] for n in STORES}
    by_kind: dict[str, dict[str, list[float]]] = {n: {} for n in STORES}
    ratios: list[float] = []
    same_set = same_order = 0
    differ: list[str] = []
    step = 0
    for index in range(passes):
        for query in (queries if index % 2 == 0 else list(reversed(queries))):
            got: dict[str, Any] = {}
            took: dict[str, float] = {}
            for name in _order(step):
                elapsed, cpu_ms, hits = timed_cpu(lambda s=stores[name], q=query["q"]: s.search(q))
                ms[name].append(elapsed)
                cpu[name].append(cpu_ms)
                by_kind[name].setdefault(query["kind"], []).append(elapsed)
                got[name], took[name] = [int(i) for i in hits["id"]], elapsed
            step += 1
            ratios.append(took["postgresql"] / took["duckdb"])
            if index == 0:
                duck, pg = got["duckdb"], got["postgresql"]
                same_set += set(duck) == set(pg)
                same_order += duck == pg
                if set(duck) != set(pg) and len(differ) < 5:
                    differ.append(f"`{query['q']}` ({query['kind']}): {len(duck)} vs {len(pg)} hits, "
                                  f"{len(set(duck) & set(pg))} shared")
    return {**{n: {"ms": summary(ms[n]), "cpu_ms": summary(cpu[n]),
                   "by_kind": {k: summary(v) for k, v in by_kind[n].items()}} for n in STORES},
            "pair_ratio": summary(ratios), "queries": len(queries), "passes": passes,
            "same_customers": same_set, "same_order": same_order, "differ_examples": differ}


def compare_saves(stores: dict[str, Any], count: int, seed: int) -> dict[str, Any]:  # noqa: PLR0915 - the steps in order
    """Saves as ``inprocess.save_bench`` makes them — get_customer, change the phone, the invoicing 'their
    reference' or the 'Source' segment in turn, save_customer(user='anna') — with the same edit applied to the
    same customer on both stores, one after the other (the order swapping every save). The picks are made on
    the DuckDB copy (``save_bench`` picks its phone numbers with DuckDB's ``hash()``); both hold the same data."""
    from customercard.errors import CustomerCardError

    from .inprocess import EDIT_KINDS, apply_edit, new_value, random_customers, save_edits

    duck = stores["duckdb"]
    rng = random.Random(seed)
    ids = random_customers(duck, count, seed)
    phones, criterion, values = save_edits(duck, seed)
    kinds = EDIT_KINDS
    for customer_id in ids[:5]:  # warm-up
        reference = f"Warm-up {rng.randint(1, 10**6)}"
        for name in STORES:
            c = stores[name].get_customer(customer_id)
            c.invoicing.their_reference = reference
            stores[name].save_customer(c, user=ACTING_USER)
    save_ms: dict[str, list[float]] = {n: [] for n in STORES}
    save_cpu: dict[str, list[float]] = {n: [] for n in STORES}
    get_ms: dict[str, list[float]] = {n: [] for n in STORES}
    loop_ms: dict[str, float] = dict.fromkeys(STORES, 0.0)  # get_customer + save_customer, summed
    by_kind: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in STORES}
    errors: dict[str, list[str]] = {n: [] for n in STORES}
    versions_differ = 0
    paired: list[float] = []
    for index in range(count):
        customer_id = ids[index % len(ids)]
        kind = kinds[index % len(kinds)]
        loaded = {}
        for name in _order(index):
            started = time.perf_counter()
            loaded[name] = stores[name].get_customer(customer_id)
            get_ms[name].append((time.perf_counter() - started) * 1000.0)
            loop_ms[name] += get_ms[name][-1]
        value = new_value(loaded["duckdb"], kind, phones, criterion, values, rng)
        saved_versions = {}
        took: dict[str, float] = {}
        for name in _order(index):
            c = loaded[name]
            apply_edit(c, kind, value, criterion)
            before = c.version
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                saved = stores[name].save_customer(c, user=ACTING_USER)
            except CustomerCardError as exc:
                errors[name].append(f"{kind}: {exc}")
                continue
            elapsed = (time.perf_counter() - t0) * 1000.0
            loop_ms[name] += elapsed
            save_cpu[name].append((time.process_time() - c0) * 1000.0)
            save_ms[name].append(elapsed)
            took[name] = elapsed
            by_kind[name][kind].append(elapsed)
            saved_versions[name] = saved.version
            if saved.version != before + 1:
                errors[name].append(f"{kind}: version not bumped for customer {customer_id}")
        if len(set(saved_versions.values())) > 1:
            versions_differ += 1
        if len(took) == 2:
            paired.append(took["postgresql"] / took["duckdb"])
    return {**{n: {"ms": summary(save_ms[n]), "cpu_ms": summary(save_cpu[n]), "get_customer_ms": summary(get_ms[n]),
                   "by_kind": {k: summary(v) for k, v in by_kind[n].items()}, "errors": len(errors[n]),
                   "loop_per_s": len(save_ms[n]) / (loop_ms[n] / 1000.0) if loop_ms[n] else 0.0,
                   "error_examples": errors[n][:3]} for n in STORES},
            "pair_ratio": summary(paired), "saves": count, "versions_differ": versions_differ}


# -- over HTTP: card opens per second with N server processes --------------------------------------------------
def _proc_stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/pid/stat after the command name) of every process."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                text = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            yield int(entry.name), text[text.rindex(")") + 2:].split()


def group_pids(pgid: int) -> list[int]:
    return [pid for pid, f in _proc_stats() if int(f[2]) == pgid]


def cpu_sample(pgid: int, postmaster: int | None) -> dict[str, float]:
    """CPU seconds so far of the server processes (process group ``pgid``) and of PostgreSQL (the postmaster and
    its children); the server group's RSS (MB) and process count; the machine's busy and total jiffies."""
    server = pg = 0.0
    rss = 0
    procs = 0
    for pid, f in _proc_stats():
        ticks = (int(f[11]) + int(f[12])) / CLK_TCK
        if int(f[2]) == pgid:
            server += ticks
            rss += int(f[21]) * PAGE_BYTES
            procs += 1
        elif postmaster and (pid == postmaster or int(f[1]) == postmaster):
            pg += ticks
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]
    return {"server_s": server, "postgres_s": pg, "client_s": time.process_time(), "rss_mb": rss / 1e6,
            "procs": procs, "busy": sum(cpu) - idle, "total": sum(cpu)}


class ServeGroup(Server):
    """``customercard --db URL serve --port P --num-procs N`` in a session of its own; stopped by its process
    group (the forked children survive their parent otherwise). Waits for the port as ``browser.Server``."""

    def __init__(self, url: str, num_procs: int, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.num_procs = num_procs
        env = {**os.environ, "CUSTOMERCARD_DATA_DIR": str(data_dir)}
        env.pop("CUSTOMERCARD_DB", None)
        env.pop("CUSTOMERCARD_COOKIE_SECRET", None)  # the processes share the secret kept in the database
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = log
        self._log = log.open("w")
        self.proc = subprocess.Popen(  # our own command
            [*customercard_command(), "--db", url, "serve", "--port", str(self.port), "--num-procs", str(num_procs)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pgid = self.proc.pid
        try:
            self._wait_for_port(180.0)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGINT to the group (as Ctrl+C), then SIGTERM, then SIGKILL, until no process of the group is left."""
        for sig, wait in ((signal.SIGINT, 20.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            if self.proc.poll() is not None and not group_pids(self.pgid):
                break
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.proc.poll() is not None and not group_pids(self.pgid):
                    break
                time.sleep(0.1)
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self._log.close()


def login(port: int, user: str = ACTING_USER, password: str = PASSWORD) -> str:
    """Log in through the login form (GET /login for its fields, POST them): the Cookie header to send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/login?next=/search")
        response = conn.getresponse()
        page = response.read().decode("utf-8", "replace")
        fields = dict(re.findall(r'<input[^>]*\bname="(\w+)"(?:[^>]*\bvalue="([^"]*)")?', page))
        if response.status != 200 or not {"username", "password"} <= set(fields):
            raise RuntimeError(f"no login form at /login (HTTP {response.status})")
        form = {**{k: html.unescape(v) for k, v in fields.items()}, "username": user, "password": password}
        xsrf = [h.split(";", 1)[0].strip() for h in response.headers.get_all("Set-Cookie") or []]
        conn.request("POST", "/login", urllib.parse.urlencode(form),  # the form's token with its cookie
                     {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(xsrf)})
        response = conn.getresponse()
        response.read()
        where = response.getheader("Location", "")
        if response.status not in (301, 302, 303) or "error" in where:
            raise RuntimeError(f"the login of {user!r} failed (HTTP {response.status}, to {where!r})")
        pairs = [h.split(";", 1)[0].strip() for h in response.headers.get_all("Set-Cookie") or []]
        cookies = [p for p in pairs if "=" in p and p.split("=", 1)[1] not in ("", '""')]
        if not any(p.startswith("user=") for p in cookies):
            raise RuntimeError("the login set no user cookie")
        return "; ".join(cookies)
    finally:
        conn.close()


def open_card(port: int, cookie: str, customer_id: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    try:
        conn.request("GET", f"/card?customer={customer_id}", headers={"Cookie": cookie})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_card(port: int, cookie: str, customer_id: int, name: str) -> int:
    """One card open that must be the customer's card (not the login page, not a message): its size in bytes."""
    status, body = open_card(port, cookie, customer_id)
    if status != 200:
        raise RuntimeError(f"GET /card?customer={customer_id}: HTTP {status} (the login cookie was not accepted?)")
    text = body.decode("utf-8", "replace")
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    if "cc-message" in text or not title or name not in html.unescape(title.group(1)):
        raise RuntimeError(f"GET /card?customer={customer_id} did not answer the card of {name!r}")
    return len(body)


def load(server: ServeGroup, cookie: str, ids: list[int], clients: int, warmup: float, seconds: float, seed: int,
         postmaster: int | None) -> dict[str, Any]:
    """``clients`` threads GET /card?customer=<random id> one after another for ``warmup`` + ``seconds``, each
    open on a new connection (as many users' browsers: a keep-alive connection stays with the process that
    accepted it, so a few long-lived ones can all land on one process); completed 200 responses in the last
    ``seconds`` counted."""
    records: list[tuple[float, float, int]] = []
    errors: list[str] = []
    stop = threading.Event()
    started = time.perf_counter()
    measure_from, end = started + warmup, started + warmup + seconds

    def client(index: int) -> None:
        rng = random.Random(seed + index)
        while not stop.is_set() and time.perf_counter() < end:
            customer_id = rng.choice(ids)
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=180)
            try:
                conn.request("GET", f"/card?customer={customer_id}", headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = 0
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                conn.close()
            records.append((t0, time.perf_counter(), status))

    threads = [threading.Thread(target=client, args=(i,), daemon=True, name=f"client-{i}") for i in range(clients)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        first = cpu_sample(server.pgid, postmaster)
        time.sleep(max(0.0, end - time.perf_counter()))
        last = cpu_sample(server.pgid, postmaster)
        for thread in threads:
            thread.join(timeout=200)
    finally:
        stop.set()
    window = [r for r in records if measure_from <= r[1] <= end]
    ok = [r for r in window if r[2] == 200]
    warm = [r for r in records if r[1] < measure_from and r[2] == 200]
    span = last["total"] - first["total"]
    statuses: dict[str, int] = {}
    for r in window:
        statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
    return {"procs": server.num_procs, "clients": clients, "warmup_s": warmup, "seconds": seconds,
            "opens": len(ok), "opens_per_s": len(ok) / seconds, "ms": summary([(b - a) * 1000.0 for a, b, _ in ok]),
            "warmup_opens": len(warm), "statuses": statuses, "errors": len(errors), "error_examples": errors[:3],
            "server_cores": (last["server_s"] - first["server_s"]) / seconds,
            "postgres_cores": (last["postgres_s"] - first["postgres_s"]) / seconds,
            "client_cores": (last["client_s"] - first["client_s"]) / seconds,
            "machine_busy": (last["busy"] - first["busy"]) / span if span else float("nan"),
            "server_rss_mb": last["rss_mb"], "server_processes": last["procs"]}


def throughput(url: str, folder: Path, ids: list[int], names: dict[int, str], procs: tuple[int, ...],
               warmup: float, seconds: float, postmaster: int | None) -> dict[str, Any]:
    """Card opens per second for each number of server processes, a fresh server each time."""
    cookie = ""
    runs: dict[str, Any] = {}
    for num in procs:
        clients = 2 * num
        say(f"   {num} server process(es): starting `customercard serve --num-procs {num}` …")
        with ServeGroup(url, num, folder / f"serve-{num}", folder / f"serve-{num}.log") as server:
            relogged = False
            if cookie:
                status, _ = open_card(server.port, cookie, ids[0])
                relogged = status != 200
            if not cookie or relogged:
                cookie = login(server.port)
            size = check_card(server.port, cookie, ids[0], names[ids[0]])
            say(f"   {num} process(es): logged in; {clients} clients for {warmup:.0f} s warm-up + {seconds:.0f} s …")
            result = load(server, cookie, ids, clients, warmup, seconds, SEED + 80 + num, postmaster)
            result.update(page_bytes=size, logged_in_again=relogged)
        runs[str(num)] = result
        say(f"   {num} process(es): {result['opens_per_s']:.1f} card opens/s, p50 {result['ms']['p50']:.0f} ms, "
            f"p95 {result['ms']['p95']:.0f} ms, {result['errors']} errors; server {result['server_cores']:.2f} cores,"
            f" PostgreSQL {result['postgres_cores']:.2f}, machine busy {result['machine_busy']:.0%}")
    return runs


# -- the item ------------------------------------------------------------------------------------------------
def postgres_bench(main_db: Path, folder: Path, plan: Any) -> dict[str, Any]:
    """Everything of item 8, in a private folder; the cluster and any server are stopped however it ends."""
    from customercard.store import open_store

    from .inprocess import random_customers, search_queries

    folder.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    try:
        duck_path = copy_db(main_db, folder, "duckdb-copy.duckdb")
        say("   starting a throw-away PostgreSQL cluster (tests/postgres_server.py) …")
        with Cluster() as cluster:
            cluster.pg.create_database(DATABASE)
            url = cluster.pg.url(DATABASE)
            say(f"   PostgreSQL on port {cluster.pg.port}; copying with `customercard migrate` …")
            result["copy"] = copy_into(duck_path, url, folder / "migrate.log")
            say(f"   copied {result['copy']['rows']:,} rows in {result['copy']['seconds']:.0f} s; VACUUM (ANALYZE) …")
            result["vacuum_analyze_s"] = vacuum_analyze(url)
            result["cluster"] = cluster.facts(url)
            result["duckdb_bytes"] = duck_path.stat().st_size
            say(f"   analysed in {result['vacuum_analyze_s']:.0f} s; PostgreSQL {result['cluster']['version']}, "
                f"database {result['cluster']['bytes'] / 1e6:,.0f} MB")
            stores = {"duckdb": open_store(duck_path), "postgresql": open_store(url)}
            try:
                customers = random_customers(stores["duckdb"], plan.pg_cards, SEED + 8)
                say(f"   card build: {len(customers)} cards on each store, interleaved …")
                result["build"] = compare_builds(stores, customers)
                say("   card build p50 " + ", ".join(f"{n} {result['build'][n]['ms']['p50']:.0f} ms" for n in STORES))
                queries = search_queries(stores["duckdb"], plan.search_queries, SEED + 4)
                say(f"   super search: {len(queries)} queries × {plan.search_passes} passes on each store …")
                result["search"] = compare_search(stores, queries, plan.search_passes)
                say("   search p50 " + ", ".join(f"{n} {result['search'][n]['ms']['p50']:.1f} ms" for n in STORES))
                say(f"   saves: {plan.pg_saves} on each store, interleaved …")
                result["save"] = compare_saves(stores, plan.pg_saves, SEED + 5)
                say("   save p50 " + ", ".join(f"{n} {result['save'][n]['ms']['p50']:.1f} ms" for n in STORES))
                ids = random_customers(stores["duckdb"], 2000, SEED + 9)
                names = {ids[0]: stores["duckdb"].get_customer(ids[0]).name}
            finally:
                for store in stores.values():
                    store.close()
            say(f"   card opens over HTTP with {', '.join(map(str, plan.pg_procs))} server processes …")
            result["throughput"] = throughput(url, folder, ids, names, plan.pg_procs, plan.pg_warmup_s,
                                              plan.pg_seconds, cluster.postmaster_pid)
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    result["cores"] = os.cpu_count()
    return result


def _ms(s: dict[str, float]) -> str:
    return f"{s['p50']:.1f} / {s['p95']:.1f}"


def report_item(result: dict[str, Any], plan: Any) -> dict[str, Any]:
    """The figures and notes of item 8 for RESULTS.md."""
    copy, cluster = result["copy"], result["cluster"]
    figures = [figure("postgres", "Copy of the 100,000-customer database to PostgreSQL (`customercard migrate`)",
                      copy["seconds"], "s", detail=f"{copy['rows']:,} rows; then VACUUM (ANALYZE) "
                                                   f"{result['vacuum_analyze_s']:.0f} s")]
    labels = {"build": "Card build (CustomerCard + get_root)", "search": "store.search(q)",
              "save": "save_customer call"}
    for key, label in labels.items():
        r = result[key]
        for name, shown in (("duckdb", "DuckDB"), ("postgresql", "PostgreSQL")):
            figures.append(figure("postgres", f"{label} on {shown}, p50", r[name]["ms"]["p50"], "ms",
                                  detail=f"p95 {r[name]['ms']['p95']:.1f} ms"))
        figures.append(figure("postgres", f"{label}: PostgreSQL / DuckDB, p50", r["postgresql"]["ms"]["p50"]
                              / r["duckdb"]["ms"]["p50"], "×",
                              detail=f"p95 ratio {r['postgresql']['ms']['p95'] / r['duckdb']['ms']['p95']:.2f}; "
                                     f"median of per-pair ratios {r['pair_ratio']['p50']:.2f}"))
    save_result = result["save"]
    if "loop_per_s" in save_result["duckdb"]:
        for name, shown in (("duckdb", "DuckDB"), ("postgresql", "PostgreSQL")):
            figures.append(figure("postgres", f"Saves per second, get_customer + save_customer (item 4's loop), "
                                              f"on {shown}", save_result[name]["loop_per_s"], "/s",
                                  detail="PostgreSQL's commits do not wait for the disk" if name == "postgresql"
                                  else "commits wait for the disk"))
    runs = result["throughput"]
    base = runs[min(runs, key=int)]["opens_per_s"]
    for num, r in runs.items():
        figures.append(figure("postgres", f"Card opens per second over HTTP, PostgreSQL, {num} server process(es)",
                              r["opens_per_s"], "/s", detail=f"{r['clients']} clients; latency p50 "
                                                             f"{r['ms']['p50']:.0f} ms, p95 {r['ms']['p95']:.0f} ms"))
    for num, r in runs.items():
        if num != min(runs, key=int):
            figures.append(figure("postgres", f"Speed-up of card opens: {num} processes / 1", r["opens_per_s"] / base,
                                  "×", detail=f"{result['cores']} cores on this machine"))
    build, search, save = result["build"], result["search"], result["save"]
    notes = [
        "A throw-away PostgreSQL cluster (`tests/postgres_server.py`: PostgreSQL "
        f"{cluster['version']}, shared_buffers {cluster['shared_buffers']}, fsync {cluster['fsync']}, "
        f"synchronous_commit {cluster['synchronous_commit']}, full_page_writes {cluster['full_page_writes']} — "
        "as in the tests: commits do not wait for the disk, which flatters PostgreSQL's saves against DuckDB's, "
        "which do) on a loopback port of this machine, filled from a private copy of the DuckDB benchmark "
        f"database with `customercard migrate --from … --to postgresql://…` in {copy['seconds']:.0f} s "
        f"({copy['summary']}), then `VACUUM (ANALYZE)` ({result['vacuum_analyze_s']:.0f} s; the copy itself "
        f"leaves planner statistics to autovacuum). Database size: PostgreSQL {cluster['bytes'] / 1e6:,.0f} MB, "
        f"DuckDB file {result['duckdb_bytes'] / 1e6:,.0f} MB. Where the copy's time went (s): "
        + ", ".join(f"{t} {s:.0f}" for t, s in sorted(copy["tables_s"].items(), key=lambda kv: -kv[1])[:8]) + ".",
        "",
        "Both stores in this process (`customercard.open_store(path)` / `open_store('postgresql://…')`), the same "
        "operations on the same customers one right after the other, the order swapping every time, so machine "
        "noise hits both. PostgreSQL's times include the round trips to the server process on the same 2 cores; "
        "'CPU' is this process's CPU time only (PostgreSQL's own work is not in it).",
        "",
        "| operation | DuckDB p50 / p95 ms | PostgreSQL p50 / p95 ms | ratio p50 | ratio p95 | CPU here, DuckDB / "
        "PostgreSQL p50 ms | n per store |", "|---|---:|---:|---:|---:|---:|---:|"]
    for key, label, n in (("build", "card build (`inprocess.build_card`)", build["cards"]),
                          ("search", "super search (`store.search`)", search["queries"] * search["passes"]),
                          ("save", "`save_customer` call", save["saves"])):
        r = result[key]
        d, p = r["duckdb"], r["postgresql"]
        notes.append(f"| {label} | {_ms(d['ms'])} | {_ms(p['ms'])} | {p['ms']['p50'] / d['ms']['p50']:.2f} | "
                     f"{p['ms']['p95'] / d['ms']['p95']:.2f} | {d['cpu_ms']['p50']:.1f} / {p['cpu_ms']['p50']:.1f} | "
                     f"{n} |")
    notes.append(f"| `get_customer` (in the save loop) | {_ms(save['duckdb']['get_customer_ms'])} | "
                 f"{_ms(save['postgresql']['get_customer_ms'])} | "
                 f"{save['postgresql']['get_customer_ms']['p50'] / save['duckdb']['get_customer_ms']['p50']:.2f} | "
                 f"{save['postgresql']['get_customer_ms']['p95'] / save['duckdb']['get_customer_ms']['p95']:.2f} | | "
                 f"{save['saves']} |")
    notes += ["", f"Card build: {build['cards']} random customers after 5 warm-up builds on each store; the same "
              f"number of Bokeh models on both: {'yes' if build['same_models'] else 'NO'}. Search: item 3's queries "
              f"(built from the DuckDB copy), {search['passes']} passes; the same customers found on both for "
              f"{search['same_customers']} of {search['queries']} queries, in the same order for "
              f"{search['same_order']}" + (" (different: " + "; ".join(search["differ_examples"]) + ")"
                                           if search["differ_examples"] else "") + ".",
              "", "Search by kind of query, p50 ms (DuckDB → PostgreSQL): "
              + ", ".join(f"{k} {search['duckdb']['by_kind'][k]['p50']:.1f} → "
                          f"{search['postgresql']['by_kind'][k]['p50']:.1f}"
                          for k in sorted(search["duckdb"]["by_kind"])) + ".",
              "", f"Saves: {save['saves']} on each store (item 4's edits — phone, their reference, 'Source' segment in "
              "turn — the same edit to the same customer on both); p50 ms by field (DuckDB → PostgreSQL): "
              + ", ".join(f"{k} {save['duckdb']['by_kind'][k]['p50']:.1f} → "
                          f"{save['postgresql']['by_kind'][k]['p50']:.1f}" for k in save["duckdb"]["by_kind"])
              + f". Errors: DuckDB {save['duckdb']['errors']}, PostgreSQL {save['postgresql']['errors']}"
              + "".join(f" (e.g. {save[n]['error_examples'][0]})" for n in STORES if save[n]["error_examples"])
              + f"; saves where the two stores ended at different versions: {save['versions_differ']}."]
    first = runs[min(runs, key=int)]
    notes += ["", "Card opens over HTTP: `customercard --db postgresql://… serve --port P --num-procs N` as a "
              "subprocess in its own process group (stopped by the group); one login through the login form (GET "
              "/login, POST its fields as anna), the cookie reused; then 2×N client threads in this process, "
              "`GET /card?customer=<random id>` one after another (2,000 random customers), each on a new connection "
              "as many users' browsers would be (a keep-alive connection stays with the process that accepted it), "
              f"{plan.pg_warmup_s:.0f} s warm-up, then completed 200 responses counted for {plan.pg_seconds:.0f} s. "
              "A GET of a Panel page builds the card session on the server (template, super search, card, Bokeh "
              "models) and answers its HTML (" + f"{first['page_bytes'] / 1000:,.0f} kB); the card's open sections "
              "are filled in right after the answer, on the same process, so latency is to the HTML and the rate "
              "counts the whole work. No browser runs "
              "the page, so the session is never connected and Bokeh discards it ~15–30 s later. 'Cores' are CPU "
              "seconds per second of the window, read from /proc: the server processes, PostgreSQL's processes, "
              "this process (the clients); 'machine busy' is all CPUs of the machine, other work included.", "",
              "| processes | clients | opens/s | speed-up | latency p50 | p95 | server cores | PostgreSQL cores | "
              "client cores | machine busy | server RSS | errors |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for num, r in runs.items():
        notes.append(f"| {num} | {r['clients']} | {r['opens_per_s']:.1f} | {r['opens_per_s'] / base:.2f}× | "
                     f"{r['ms']['p50']:.0f} ms | {r['ms']['p95']:.0f} ms | {r['server_cores']:.2f} | "
                     f"{r['postgres_cores']:.2f} | {r['client_cores']:.2f} | {r['machine_busy']:.0%} | "
                     f"{r['server_rss_mb']:,.0f} MB ({r['server_processes']} proc.) | {r['errors']} |")
    best = max(runs.values(), key=lambda r: r["opens_per_s"])
    notes += ["", f"This machine has {result['cores']} cores, shared by the server processes, PostgreSQL and the "
              "client threads (and by other work): with N=1 one process builds one card at a time (a Panel server "
              "builds sessions on its one event-loop thread), so N=2 can use the second core; N=4 has no third or "
              f"fourth core to use and cannot beat N=2 by much. Best measured here: {best['opens_per_s']:.1f} opens/s "
              f"with {best['procs']} process(es)."]
    return {"figures": figures, "notes": notes, "result": result}
