"""customercard's performance suite (not part of ``make test``): ``python -m benchmarks.run`` or ``make bench``.

Every figure is a median/p95 over many runs, or a ratio measured side by side in one run; the results go
to ``benchmarks/RESULTS.md``, ``benchmarks/results.json`` and ``benchmarks/growth.png``.
"""
