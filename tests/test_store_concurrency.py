"""Threads and crashes: no lost update, every stale save refused, nothing half-written after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import customercard as cc
from customercard.store import Store


def test_eight_threads_no_lost_update_and_stale_saves_conflict(empty_store):
    own = [empty_store.create_customer(user="anna", name=f"Own {i} AB").id for i in range(4)]
    shared = empty_store.create_customer(user="anna", name="Shared AB").id
    saves_each = 15
    results: Counter = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def save_own(customer_id: int) -> None:
        start.wait()
        for i in range(saves_each):
            c = empty_store.get_customer(customer_id)
            c.their_reference = f"ref {i}"
            c.invoicing.their_reference = f"ref {i}"
            empty_store.save_customer(c, user="anna")

    def save_shared(worker: int) -> None:
        start.wait()
        done = 0
        while done < saves_each:
            c = empty_store.get_customer(shared)
            c.nickname = f"w{worker}-{done}"
            try:
                empty_store.save_customer(c, user="anna")
            except cc.ConflictError as exc:
                assert exc.attempted_version < exc.stored_version
                results["conflicts"] += 1
                continue
            results["saved"] += 1
            done += 1

    def run(target, arg):
        try:
            target(arg)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(save_own, cid)) for cid in own]
    threads += [threading.Thread(target=run, args=(save_shared, w)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    for cid in own:
        assert empty_store.get_customer(cid).version == saves_each + 1
        assert (empty_store.history(cid)["kind"] == "update").sum() == saves_each
    final = empty_store.get_customer(shared)
    assert results["saved"] == 4 * saves_each == final.version - 1
    updates = empty_store.history(shared)
    assert (updates["kind"] == "update").sum() == results["saved"]
    assert updates["version"].max() == final.version  # every version written exactly once
    assert updates[updates["kind"] == "update"]["version"].is_unique


CHILD = """
import sys
from customercard.store import Store
store = Store(sys.argv[1])
ids = [int(x) for x in sys.argv[2].split(",")]
n = 0
while True:
    for cid in ids:
        c = store.get_customer(cid)
        c.nickname = f"save {n}"
        c.invoicing.their_reference = f"ref {n}"
        store.save_customer(c, user="anna")
        n += 1
        print(f"{cid} {c.version}", flush=True)
"""


def test_sigkill_in_the_middle_of_saves_leaves_only_whole_saves(empty_store, tmp_path):
    ids = [empty_store.create_customer(user="anna", name=f"Crash {i} AB").id for i in range(3)]
    path = empty_store.location
    empty_store.close()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), path, ",".join(map(str, ids))],
                             stdout=subprocess.PIPE, text=True)
    committed: dict[int, int] = {}
    deadline = time.monotonic() + 60
    while sum(committed.values()) < 150 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        cid, version = map(int, line.split())
        committed[cid] = version
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    assert sum(committed.values()) >= 150, "the child did not get going"

    with Store(path) as store:
        for cid in ids:
            c = store.get_customer(cid)
            assert c.version >= committed.get(cid, 1)  # every reported commit survived
            history = store.history(cid)
            updates = history[history["kind"] == "update"]
            # a whole save is two history rows with the version it produced; never one without the other
            per_version = updates.groupby("version").size()
            assert (per_version == 2).all()
            assert len(per_version) == c.version - 1
            newest = updates[updates["version"] == c.version].set_index("field")["new_value"]
            if c.version > 1:
                assert newest["nickname"] == c.nickname
                assert newest["invoicing.their_reference"] == c.invoicing.their_reference
