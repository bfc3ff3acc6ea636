"""bench/regression.py's verdicts: a ratio only on the same points, a loss beyond the
tolerance flagged, refusals and missing series said."""

from __future__ import annotations

from bench.regression import compare, rows_of


def row(name: str, rel: float, points: int = 100, **kw) -> dict:
    return {"series": name, "rel_mae": {"lstmflow": rel}, "freq": "h", "horizon": 24,
            "season": 24, "points": points, **kw}


def test_verdicts():
    base = {r["series"]: r for r in (row("a", 0.70), row("b", 0.70), row("c", 0.70),
                                     row("d", 0.70), {"series": "e", "refused": "no window"})}
    head = {r["series"]: r for r in (row("a", 0.71), row("b", 0.72), row("c", 0.60, points=90),
                                     row("e", 0.8))}
    got = {r["series"]: r for r in compare(base, head, 0.02)}
    assert got["a"]["verdict"] == "ok" and round(got["a"]["ratio"], 4) == round(0.71 / 0.70, 4)
    assert got["b"]["verdict"] == "LOSS"  # +2.9%
    assert got["c"]["verdict"] == "not comparable: points 100 -> 90" and got["c"]["ratio"] is None
    assert got["d"]["verdict"] == "missing (head)"
    assert got["e"]["verdict"] == "refused (base)"


def test_the_domains_bench_is_compared_on_its_design_half_only():
    rows = [row("x", 0.9, half="design"), row("y", 0.8, half="held-out")]
    assert list(rows_of("domains", rows)) == ["x"]
    assert list(rows_of("accuracy", {"series": [row("z", 1.0)]})) == ["z"]
