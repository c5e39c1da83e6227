"""axe-core in the browser tests: the accessibility rules run inside a page that Playwright drives.

axe-core comes from npm (``package.json`` and ``package-lock.json`` at the repository's root; ``make test`` runs
``npm ci``). It is put into the page with ``page.evaluate``: that runs through the DevTools protocol, outside the
page's Content-Security-Policy (the server lets only scripts with the page's nonce run, so a ``<script>`` element
added by the test would be refused). axe-core reaches into open shadow roots by itself — Bokeh and Panel draw
every component in one — and names a node inside one by a list of selectors, one per shadow root crossed.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")

#: What axe is asked to check: every rule of WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                  "best-practice"]},
           "resultTypes": ["violations", "passes"]}


@functools.cache
def axe_source() -> str:
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `npm ci` in the checkout (`make test` does).")
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(page, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """axe-core's results for the page as it is now (its violations and passes, each node named by its target:
    selectors, a list of them for a node inside shadow roots)."""
    if not page.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(axe_source())
    results = page.evaluate("async (options) => { const r = await axe.run(document, options);"
                            " return {engine: r.testEngine, url: r.url, violations: r.violations, passes: r.passes}; }",
                            options or OPTIONS)
    assert results["engine"]["name"] == "axe-core", results["engine"]  # axe itself answered
    assert results["passes"], "axe found nothing to check: the page was empty"
    return results


def by_impact(violations: list[dict[str, Any]]) -> Counter:
    """How many rules are broken, by impact."""
    return Counter(v["impact"] or "minor" for v in violations)


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]], nodes: int = 3) -> str:
    """The violations as lines a person reads in a failed test: rule, impact, help, the first nodes."""
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:nodes]:
            lines.append(f"      {node['target']}  {node.get('failureSummary', '').splitlines()[-1:]}")
            lines.append(f"        {node['html'][:160]}")
    return "\n".join(lines)


def crosses_shadow_root(target: list[Any]) -> bool:
    """Whether a node's target path goes through a shadow root (axe writes one selector per document or root)."""
    return any(isinstance(part, list) and len(part) > 1 for part in target)
