"""Crash consistency, tested the way storage engines test it: SIGKILL a real `lstmflow train`
process at named points and check what it left.

Each scenario kills one run at one crash point (lstmflow.crash: `write:` a temp file half
written, `rename:` complete but not yet renamed into place, `saved:` renamed and fsynced), then
checks that (a) nothing partial is visible: every file and version folder under its real name
is complete (Parquet, JSON, CSV and checkpoints load, versions load), only hidden `.*.tmp` names
may be half written; (b) the state is the one the table says (snapshot, epochs in last.ckpt,
version, champion); (c) the champion is the old one or the new one, complete; then recovers:
`--resume RUN_ID` where a checkpoint exists, else `--resume` is refused clearly and a plain
rerun completes; the recovered run is champion and swept what the killed one left.

The runs share one output folder and registry, as scheduled runs do. Processes come from a
forkserver (tests/crashkit.py); data quality gates are off (they keep reports only, and cost
~2 s a run); registry.promote is 'always', so every run passes the champion swap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
import yaml

from lstmflow.crash import AT, LOG
from lstmflow.serve.history import read_history
from lstmflow.serve.registry import champion, load_version
from tests.conftest import small_config_dict
from tests.crashkit import KILLED, Runner

# (kill point, snapshot visible, epochs in last.ckpt, version visible, champion, recovery)
SCENARIOS = [
    ("write:data.parquet", False, None, False, "old", "rerun"),
    ("rename:data.parquet", False, None, False, "old", "rerun"),
    ("saved:data.parquet", True, None, False, "old", "rerun"),
    ("saved:config.json", True, None, False, "old", "rerun"),
    ("write:last.ckpt#1", True, None, False, "old", "rerun"),
    ("rename:last.ckpt#1", True, None, False, "old", "rerun"),
    ("saved:last.ckpt#1", True, 1, False, "old", "resume"),  # between epochs 1 and 2
    ("write:last.ckpt#2", True, 1, False, "old", "resume"),
    ("rename:last.ckpt#3", True, 2, False, "old", "resume"),
    ("saved:last.ckpt#3", True, 3, False, "old", "resume"),  # the fit is over
    ("write:history.json", True, 3, False, "old", "resume"),
    ("write:history.csv", True, 3, False, "old", "resume"),
    ("write:attempt-history.json", True, 3, False, "old", "resume"),  # repair judged the fit
    ("write:attempt-history.csv", True, 3, False, "old", "resume"),
    ("write:attempt.json", True, 3, False, "old", "resume"),
    ("write:forecasts.parquet", True, 3, False, "old", "resume"),
    ("write:version", True, 3, False, "old", "resume"),
    ("rename:version", True, 3, False, "old", "resume"),
    ("saved:version", True, 3, True, "old", "resume"),
    ("write:champion.json", True, 3, True, "old", "resume"),
    ("rename:champion.json", True, 3, True, "old", "resume"),
    ("saved:champion.json", True, 3, True, "new", "resume"),  # its history line not yet written
    ("write:history.jsonl", True, 3, True, "new", "resume"),
    ("rename:history.jsonl", True, 3, True, "new", "resume"),
    ("saved:history.jsonl", True, 3, True, "new", "resume"),
    ("write:report.html", True, 3, True, "new", "resume"),
    ("write:summary.json", True, 3, True, "new", "resume"),
    ("saved:summary.json", True, 3, True, "new", "rerun"),
]
EPOCHS = 3  # validation checks of the step budget (each a Lightning epoch and a checkpoint)


@dataclass
class Bench:
    runner: Runner
    out: Path
    argv: list[str]
    log: Path
    rows: list[str]  # the kill-point table, written to <basetemp>/crash0/table.md

    @property
    def registry(self) -> Path:
        return self.out / "registry" / "crash"


@pytest.fixture(scope="module")
def bench(cli_runner, sample_slice, tmp_path_factory):
    """A config, and a first run that is champion (it also logs every crash point it passes)."""
    base = tmp_path_factory.mktemp("crash")
    raw = small_config_dict(sample_slice, base / "out")
    raw.update(name="crash", registry={"promote": "always", "skip_unchanged": False},
               quality={"enabled": False})
    # every run a whole cold fit (the table counts its checks): no warm start from the champion
    raw["training"].update(max_steps=4 * EPOCHS, val_check_steps=4, patience=EPOCHS,
                           warm_start="never")
    cfg = base / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    b = Bench(cli_runner, base / "out", ["train", "--config", str(cfg)],
              base / "points.log", ["| kill point | state after | recovery |", "|---|---|---|"])
    rc, out = b.runner.run(b.argv, {LOG: str(b.log)})
    assert rc == 0, out[-4000:]
    yield b
    (base / "table.md").write_text("\n".join(b.rows) + "\n", encoding="utf-8")


def test_every_crash_point_kind_has_a_scenario(bench):
    """A new durable write (a new file kind) must come with a kill scenario here."""
    passed = {line.split(":", 1)[1].split("#")[0] for line in bench.log.read_text().split()}
    tested = {p.split(":", 1)[1].split("#")[0] for p, *_ in SCENARIOS}
    assert passed, "the run passed no crash point"
    assert passed <= tested, f"kill points never tried: {sorted(passed - tested)}"


def _complete(path: Path) -> None:
    """Load a file the way its reader does; raises if it is partial."""
    suffix = path.suffix
    if suffix == ".parquet":
        pq.read_table(path)
    elif suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
    elif suffix == ".jsonl":
        assert all(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    elif suffix == ".csv":
        pd.read_csv(path)
    elif suffix == ".html":
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
    elif suffix == ".ckpt":
        torch.load(path, map_location="cpu", weights_only=True)


def nothing_partial(out: Path) -> list[Path]:
    """(a): every file under its real name loads, every version folder loads with every file
    matching its manifest, the champion points at such a version. Returns the hidden temp
    leftovers (the only partial things)."""
    temps = []
    for p in sorted(out.rglob("*")):
        hidden = [part for part in p.relative_to(out).parts if part.startswith(".")]
        if hidden:
            assert all(h.endswith(".tmp") or h in (".lock", ".locks") for h in hidden), p
            temps += [p] if p.name.endswith(".tmp") else []
        elif p.is_file():
            _complete(p)
    registry = out / "registry" / "crash"
    for v in (registry / "versions").iterdir() if (registry / "versions").is_dir() else ():
        if not v.name.startswith("."):
            load_version(v)
    pointer = champion(registry)
    if pointer is not None:
        load_version(registry / "versions" / pointer["version"])
    return temps


def _state(run_dir: Path, registry: Path) -> tuple:
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    epochs = torch.load(ckpt, weights_only=True)["epoch"] + 1 if ckpt.is_file() else None
    return ((run_dir / "data.parquet").is_file(), epochs,
            (registry / "versions" / run_dir.name).is_dir())


def _within(path: Path, *folders: Path) -> bool:
    return any(f in path.parents for f in folders)


def _refused_resume(bench: Bench, run_id: str) -> str:
    rc, err = bench.runner.run([*bench.argv, "--resume", run_id])
    assert rc == 2, err[-4000:]
    return err


@pytest.mark.parametrize(("point", "snapshot", "epochs", "version", "champ", "recovery"),
                         SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_kill_at(bench, point, snapshot, epochs, version, champ, recovery):
    old = champion(bench.registry)["version"]
    rc, out = bench.runner.run(bench.argv, {AT: point})
    assert rc == KILLED, f"crash point {point} was never reached (exit {rc}):\n{out[-4000:]}"
    run_id = re.search(r"lstmflow: run (\S+) -> ", out).group(1)
    run_dir = bench.out / "runs" / run_id
    temps = nothing_partial(bench.out)  # (a)
    assert _state(run_dir, bench.registry) == (snapshot, epochs, version)
    assert champion(bench.registry)["version"] == {"old": old, "new": run_id}[champ]  # (c)
    state = (f"snapshot {'yes' if snapshot else 'no'}, last.ckpt {epochs or 'none'} epochs, "
             f"version {'yes' if version else 'no'}, champion {champ}; hidden temp: "
             f"{', '.join(t.name for t in temps if _within(t, run_dir, bench.registry)) or 'none'}")
    how = "--resume" if recovery == "resume" else "plain rerun"

    if recovery == "resume":  # (b)
        rc, out = bench.runner.run([*bench.argv, "--resume", run_id])
    else:
        if epochs is None:
            refusal = _refused_resume(bench, run_id)
            assert "cannot resume: " in refusal
            how = f"--resume refused ({refusal.split('cannot resume: ')[1][:60].strip()}...), {how}"
        rc, out = bench.runner.run(bench.argv)
        run_id = re.search(r"lstmflow: run (\S+) -> ", out).group(1)
        run_dir = bench.out / "runs" / run_id
    assert rc == 0, out[-4000:]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed" and summary["training"]["epochs_run"] == EPOCHS
    if recovery == "resume":
        assert summary["training"]["resumed_from_epoch"] == epochs
        written = load_version(bench.registry / "versions" / run_id).config["data"]
        assert written["timestamp_column"] == "Date"  # as first given, not the snapshot's
        assert [h["epoch"] for h in json.loads((run_dir / "history.json").read_text())] == [0, 1, 2]
    assert summary["promotion"]["promoted"] is True
    assert champion(bench.registry)["version"] == run_id
    assert champion(bench.registry)["event"]["id"] in {e["id"] for e in read_history(bench.registry)}
    temps = nothing_partial(bench.out)
    swept = [run_dir, run_dir / "checkpoints", bench.registry, bench.registry / "versions"]
    assert not [t for t in temps if t.parent in swept], temps
    bench.rows.append(f"| `{point}` | {state} | {how}: completed, champion new |")


# ---- prediction and rollback: the other writers --------------------------------------------------
# (kill point, forecast file visible, prediction.json visible)
PREDICT_SCENARIOS = [
    ("write:forecasts", False, False),
    ("rename:forecasts", False, False),
    ("saved:forecasts", True, False),
    ("write:prediction.json", True, False),
    ("saved:prediction.json", True, True),
]
# (kill point, champion after: old or the rolled-back-to version, history line written)
ROLLBACK_SCENARIOS = [
    ("write:champion.json", "old", False),
    ("rename:champion.json", "old", False),
    ("saved:champion.json", "new", False),
    ("write:history.jsonl", "new", False),
    ("saved:history.jsonl", "new", True),
]


def _with_previous(bench: Bench) -> dict:
    """The champion pointer once it has an earlier champion to roll back to: the module's kill
    tests train several, but pytest-xdist may run a rollback test on a worker before them."""
    pointer = champion(bench.registry)
    if not pointer.get("previous"):
        rc, out = bench.runner.run(bench.argv)
        assert rc == 0, out[-4000:]
        pointer = champion(bench.registry)
    return pointer


def _serve_argv(bench: Bench, *args: str) -> list[str]:
    return [*args, "--output-dir", str(bench.out), "--name", "crash"] if args[0] == "registry" \
        else [*args, "--config", bench.argv[-1]]


def test_every_crash_point_of_predict_and_rollback_has_a_scenario(bench, tmp_path):
    _with_previous(bench)
    log = tmp_path / "points.log"
    for argv in (["predict", "--out", str(tmp_path / "f.parquet")], ["registry", "rollback"]):
        rc, out = bench.runner.run(_serve_argv(bench, *argv), {LOG: str(log)})
        assert rc == 0, out[-4000:]
    undo = champion(bench.registry)["event"]["from"]
    assert bench.runner.run(_serve_argv(bench, "registry", "promote", undo))[0] == 0
    passed = {line.split(":", 1)[1].split("#")[0] for line in log.read_text().split()}
    tested = {p.split(":", 1)[1] for p, *_ in PREDICT_SCENARIOS + ROLLBACK_SCENARIOS}
    assert passed == tested, f"kill points never tried: {sorted(passed - tested)}"


@pytest.mark.parametrize(("point", "forecast", "record"), PREDICT_SCENARIOS,
                         ids=[s[0] for s in PREDICT_SCENARIOS])
def test_kill_predict_at(bench, tmp_path, point, forecast, record):
    target = tmp_path / "forecast.parquet"
    before = set((bench.out / "predictions").rglob("prediction.json"))
    rc, out = bench.runner.run(_serve_argv(bench, "predict", "--out", str(target)), {AT: point})
    assert rc == KILLED, f"crash point {point} was never reached (exit {rc}):\n{out[-4000:]}"
    nothing_partial(bench.out)
    assert target.is_file() is forecast
    if forecast:
        pq.read_table(target)
    assert bool(set((bench.out / "predictions").rglob("prediction.json")) - before) is record
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == (
        ["forecast.parquet"] if forecast else [])
    rc, out = bench.runner.run(_serve_argv(bench, "predict", "--out", str(target)))
    assert rc == 0, out[-4000:]
    assert set(pq.read_table(target).column("model_version").to_pylist()) == {
        champion(bench.registry)["version"]}
    bench.rows.append(f"| `lstmflow predict` at `{point}` | forecast file "
                      f"{'whole' if forecast else 'absent'}, prediction.json "
                      f"{'written' if record else 'absent'} | rerun: completed |")


@pytest.mark.parametrize(("point", "champ", "logged"), ROLLBACK_SCENARIOS,
                         ids=[s[0] for s in ROLLBACK_SCENARIOS])
def test_kill_rollback_at(bench, point, champ, logged):
    pointer = _with_previous(bench)
    old, back_to = pointer["version"], pointer["previous"][-1]
    rc, out = bench.runner.run(_serve_argv(bench, "registry", "rollback"), {AT: point})
    assert rc == KILLED, f"crash point {point} was never reached (exit {rc}):\n{out[-4000:]}"
    nothing_partial(bench.out)
    now = champion(bench.registry)
    assert now["version"] == {"old": old, "new": back_to}[champ]
    ids = {e["id"] for e in read_history(bench.registry)}
    assert (now["event"]["id"] in ids) is (logged or champ == "old")
    # recovery: the next registry write appends a lost line, then puts the old champion back
    rc, out = bench.runner.run(_serve_argv(bench, "registry", "promote", old))
    if champ == "new":
        assert rc == 0, out[-4000:]
    else:  # the rollback never happened
        assert rc == 1 and f"version '{old}' is already the champion" in out, out[-4000:]
    history = read_history(bench.registry)
    if champ == "new":
        line = next(e for e in history if e["id"] == now["event"]["id"])
        assert line["action"] == "rollback" and line.get("recovered", False) is not logged
    assert champion(bench.registry)["version"] == old
    assert champion(bench.registry)["event"]["id"] in {e["id"] for e in history}
    line = "written" if logged else "missing" if champ == "new" else "not due"
    after = ("refused, already champion" if champ == "old" else
             "completed" if logged else "completed, the lost line appended")
    bench.rows.append(f"| `lstmflow registry rollback` at `{point}` | champion {champ}, history "
                      f"line {line} | promote back: {after} |")
