"""The machine and versions, the figures against their targets, and the files: RESULTS.md, results.json,
growth.png."""

from __future__ import annotations

import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from .common import BENCH_DIR

RESULTS_MD = BENCH_DIR / "RESULTS.md"
RESULTS_JSON = BENCH_DIR / "results.json"
GROWTH_PNG = BENCH_DIR / "growth.png"

ITEMS = {
    "card": "1. Card in the browser (card vs bare page)",
    "server": "2. Card on the server (in-process)",
    "search": "3. Super search",
    "save": "4. Save",
    "users": "5. Many users",
    "analyst": "6. Analyst path",
    "growth": "7. Growth with the data size",
    "postgres": "8. PostgreSQL beside DuckDB",
    "import": "9. Import (dry run)",
    "live": "10. Open pages: idle cost and others' changes shown",
    "interactions": "11. What a person feels: interactions in the browser",
    "remote": "12. The notebook beside the server (the store through customercard serve)",
    "story": "13. The customer's story: timeline, the card as of a day, a year's invoices",
    "bulk": "14. Bulk change of 1,000 customers (against 1,000 single saves)",
    "home": "15. The home page (My customers) on the server",
    "board": "16. The pipeline board's open against the bare page (Chromium)",
    "memory": "17. Memory at a million: the search index held in memory, RSS and search by holding",
}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "os": os_name}


def versions(chromium: str | None = None) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("panel", "bokeh", "holoviews", "param", "pandas", "duckdb", "psycopg", "numpy", "playwright"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    if chromium:
        found["chromium"] = chromium
    return found


def product_state() -> dict[str, Any]:
    """The product's git commit and its files changed since (the product moves while the suite runs)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True,
                                  timeout=20, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if line[3:] and not line[3:].startswith("benchmarks/")]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "subject": git("log", "-1", "--format=%s").strip()[:100],
            "changed_files": changed}


# -- figures ------------------------------------------------------------------------------------------------
def figure(item: str, name: str, value: float, unit: str, target: float | None = None, op: str = "<=",
           detail: str = "", stretch: float | None = None) -> dict[str, Any]:
    """One reported figure; ``op`` says how it must compare with ``target`` to pass."""
    verdict = None
    if target is not None and value is not None and not (isinstance(value, float) and math.isnan(value)):
        verdict = "PASS" if (value <= target if op == "<=" else value >= target) else "FAIL"
    return {"item": item, "name": name, "value": value, "unit": unit, "target": target, "op": op,
            "verdict": verdict, "detail": detail, "stretch": stretch}


def _num(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "%":
        return f"{value:+.1f} %"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def _target(f: dict[str, Any]) -> str:
    if f["target"] is None:
        return "(reported)"
    text = f"{f['op'].replace('<=', '≤').replace('>=', '≥')} {_num(f['target'], f['unit'])}"
    if f.get("stretch") is not None:
        text += f" (stretch ≤ {_num(f['stretch'], f['unit'])})"
    return text


def _verdict(f: dict[str, Any]) -> str:
    if f["verdict"] is None:
        return ""
    text = f"**{f['verdict']}**"
    if f["verdict"] == "PASS" and f.get("stretch") is not None:
        text += " (stretch met)" if f["value"] <= f["stretch"] else " (stretch missed)"
    return text


# -- the growth plot ----------------------------------------------------------------------------------------
def growth_plot(growth: dict[str, Any], path: Path = GROWTH_PNG) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = growth["sizes"]
    if len(sizes) < 2:
        return None
    series = [("card_build_ms", "Card build (server)", "#2f6fb3"),
              ("card_queries_ms", "Card's store queries", "#6a9f3a"),
              ("search_ms", "Super search", "#e69f3a")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label, color in series:
        p50 = [growth[key][str(n)]["p50"] for n in sizes]
        p95 = [growth[key][str(n)]["p95"] for n in sizes]
        axes[0].plot(sizes, p50, "o-", color=color, label=f"{label} p50")
        axes[0].plot(sizes, p95, "o--", color=color, alpha=0.6, label=f"{label} p95")
        base = p50[0]
        axes[1].plot(sizes, [v / base for v in p50], "o-", color=color, label=label)
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("customers")
    axes[0].set_ylabel("milliseconds")
    axes[0].set_title("Time per operation")
    axes[0].legend(fontsize=7)
    axes[0].grid(True, which="both", alpha=0.3)
    axes[1].set_xscale("log")
    axes[1].axhline(1.3, color="#b42318", linestyle=":", label="target 1.3×")
    axes[1].set_xlabel("customers")
    axes[1].set_ylabel(f"p50 relative to {sizes[0]:,} customers")
    axes[1].set_title("Growth (median, relative)")
    axes[1].legend(fontsize=7)
    axes[1].grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- the files ----------------------------------------------------------------------------------------------
def load_previous() -> dict[str, Any]:
    try:
        return json.loads(RESULTS_JSON.read_text())
    except (OSError, ValueError):
        return {}


def write(results: dict[str, Any]) -> None:
    RESULTS_JSON.write_text(json.dumps(results, indent=1, default=_jsonable) + "\n")
    RESULTS_MD.write_text(markdown(results))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    items = results["items"]
    lines = ["# customercard — performance results", "",
             "Written by `python -m benchmarks.run` (`make bench`); do not edit by hand. Timings come from a shared "
             "2-core machine, so every figure is a median/p95 over many runs or a ratio measured side by side "
             "in one run. Where a figure says 'CPU time', it is the process's CPU time (all threads) for the same "
             "operations: what they cost without waiting for a core (wall minus CPU is waiting — for a core or "
             "the disk).", ""]
    lines += ["## Run", "",
              f"- Date: {meta['date']} (this run: `{meta['command']}`)",
              f"- Machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores, "
              f"{meta['machine']['ram_gb']} GB RAM, {meta['machine']['os']}",
              "- Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
              f"- Product: commit {meta['product']['commit']} ({meta['product']['subject']})"
              + (f", with uncommitted changes to {len(meta['product']['changed_files'])} file(s): "
                 + ", ".join(f"`{f}`" for f in meta['product']['changed_files'][:8])
                 if meta['product']['changed_files'] else ""),
              f"- Main suite (items 1–6) on {meta['main_size']:,} customers; growth sizes run: "
              + (", ".join(f"{n:,}" for n in items["growth"]["result"]["sizes"]) if "growth" in items
                 else "(not run)")]
    stale = [k for k, v in items.items() if v.get("run_id") != meta["run_id"]]
    if stale:
        lines.append("- Carried over from an earlier run (not measured this time): "
                     + ", ".join(f"{ITEMS[k]} ({items[k]['date']}{', quick' if items[k].get('quick') else ''})"
                                 for k in stale))
    if meta.get("quick"):
        lines.append("- **Quick run** (`--quick`): fewer repetitions, a smoke test only — not for decisions.")
    loads = {k: v["load"] for k, v in items.items() if v.get("run_id") == meta["run_id"] and v.get("load")}
    if loads:
        lines.append("- Machine load (1-minute load average at the start → end of each item; 2 cores, shared with "
                     "other work; includes this suite's own server and Chromium): "
                     + ", ".join(f"{k} {a:.1f} → {b:.1f}" for k, (a, b) in loads.items()))
    lines += ["", "### Databases", "", "| file | customers | invoice lines | contacts | comments | history rows | "
              "search terms | size on disk |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for facts in meta.get("databases", {}).values():
        lines.append(f"| `{facts['file']}` | {facts['customers']:,} | {facts['invoices']:,} | {facts['contacts']:,} | "
                     f"{facts['comments']:,} | {facts['customer_changes']:,} | {facts['search_terms']:,} | "
                     f"{facts['bytes'] / 1e6:,.0f} MB |")
    lines += ["", "## Results", "", "| # | figure | value | target | verdict |", "|---|---|---:|---|---|"]
    for key in ITEMS:
        if key not in items:
            continue
        for f in items[key]["figures"]:
            name = f["name"] + (f" — {f['detail']}" if f["detail"] else "")
            lines.append(f"| {ITEMS[key].split('.')[0]} | {name} | {_num(f['value'], f['unit'])} | {_target(f)} | "
                         f"{_verdict(f)} |")
    failed = [f for v in items.values() for f in v["figures"] if f["verdict"] == "FAIL"]
    passed = [f for v in items.values() for f in v["figures"] if f["verdict"] == "PASS"]
    lines += ["", f"{len(passed)} targets met, {len(failed)} missed."]
    lines += ["", "## Details", ""]
    for key, title in ITEMS.items():
        if key in items and items[key].get("notes"):
            lines += [f"### {title}", "", *items[key]["notes"], ""]
    if "growth" in items and GROWTH_PNG.exists():
        lines += ["### Growth curve", "", "![Growth: card build, the card's store queries and the super search "
                  "by number of customers](growth.png)", ""]
    return "\n".join(lines).rstrip() + "\n"
