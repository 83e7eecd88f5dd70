"""Scale benchmark: ``burnout analyze`` against the same relational work hand-written.

One command (``make bench``) runs, for each cohort size (default 100k, 1M and 5M
patients, simulated with ``burnout.simulate`` and written as Parquet once into
benchmarks/data/, which git ignores):

- ``burnout analyze DIR --out OUT``: the whole command as a separate process
  (validation, patient table, measures, the analyses beyond completers, report);
- ``burnout relational stage``: in a separate process, only load + validate +
  patient table + measures (the part the hand-written versions do), in process;
- the same relational work hand-written in raw DuckDB SQL (bench_sql.py), polars
  (bench_polars.py) and pandas (bench_pandas.py), each as a separate process.

Each row records wall time and the process's peak resident memory (``wait4``'s
``ru_maxrss``; this driver imports nothing heavy, since Linux starts a forked child's
peak at its parent's), and the ratio to raw SQL. Every hand-written version must return
exactly the integers of burnout's measures (counts, sums, sums of squares,
profile cut-offs, subgroups; bench_common's canonical form), and burnout's
results.json must show the same flow counts: otherwise the run fails, because a
benchmark that computes something else is meaningless.

Usage::

    python benchmarks/run.py                         # 100k, 1M, 5M patients
    python benchmarks/run.py --sizes 100k,1M --write-readme
    python benchmarks/run.py --memory 10M --write-readme   # the large-cohort memory check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEADING = "## Scale: analyze vs hand-written SQL, polars, pandas"
IMPLEMENTATIONS = ("sql", "polars", "pandas")
LABELS = {
    "analyze": "burnout analyze (whole command)",
    "store": "burnout analyze on a validated store (whole command)",
    "core": "hand-written core-numbers SQL (core_numbers.sql)",
    "relational": "burnout relational stage only",
    "sql": "raw DuckDB SQL",
    "polars": "polars",
    "pandas": "pandas",
}

sys.path.insert(0, str(HERE))


@dataclass
class Run:
    what: str
    patients: int
    seconds: float | None  # None: failed or timed out
    peak_mib: float
    agrees: str = ""
    note: str = ""
    cpu: float | None = None


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"a size like 100k, 1M or 250000, got {text!r}")
    return int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()])


def label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1_000}k" if n % 1_000 == 0 else str(n)


REPEAT = 1  # runs per measurement (--repeat); the fastest is kept


@dataclass
class Measured:
    seconds: float | None  # wall clock; None: failed or stopped
    peak_mib: float  # peak resident memory of the process
    cpu: float  # user + system CPU seconds of the process (less sensitive to a shared machine)
    note: str = ""


def timed(cmd: list[str], *, timeout: float, log: Path, output: Path | None = None) -> Measured:
    """Run ``cmd`` REPEAT times; the fastest run's measurements.

    ``output``: a file the command writes; the fastest run's copy is left there.
    """
    best: Measured | None = None
    kept = None if output is None else output.with_name(output.name + ".fastest")
    for _ in range(REPEAT):
        got = _timed_once(cmd, timeout=timeout, log=log)
        if got.seconds is None:
            return got
        if best is None or got.seconds < best.seconds:  # type: ignore[operator]
            best = got
            if output is not None and kept is not None:
                shutil.copyfile(output, kept)
    assert best is not None
    if output is not None and kept is not None:
        shutil.move(kept, output)
    return best


def _timed_once(cmd: list[str], *, timeout: float, log: Path) -> Measured:
    """Run ``cmd`` once."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return Measured(None, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, f"stopped after {timeout:.0f} s")
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
    cpu = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        return Measured(None, usage.ru_maxrss / 1024, cpu, f"exit {code}: {tail[0][:120]}")
    return Measured(seconds, usage.ru_maxrss / 1024, cpu)


def relational_measures(folder: Path, out: Path) -> None:
    """(Child process) burnout's load + validate + patient table + measures; canonical JSON to ``out``."""
    from bench_common import from_measures
    from burnout.cohort import build_patient_table
    from burnout.ingest import load_cohort
    from burnout.measures import collect_measures
    from burnout.plan import load_protocol

    t0 = time.perf_counter()
    plan = load_protocol(None)
    cohort = load_cohort(
        folder,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
    )
    t1 = time.perf_counter()
    table = build_patient_table(cohort, plan).cache()
    t2 = time.perf_counter()
    m = collect_measures(table, plan)
    t3 = time.perf_counter()
    stages = {"load + validate": t1 - t0, "patient table": t2 - t1, "measures": t3 - t2}
    out.write_text(json.dumps({"seconds": t3 - t0, "stages": stages, "measures": from_measures(m)}))


def generated(n: int, *, seed: int, data: Path) -> Path:
    """The cohort folder of ``n`` patients, generated in a child process if needed.

    Generation imports the simulator and holds a chunk of arrays: done here, it would
    raise this process's peak RSS, which Linux passes on to every child it forks.
    """
    folder = data / f"scale_{label(n)}_seed{seed}"
    if not (folder / ".complete").exists():
        subprocess.run(
            [sys.executable, str(HERE / "run.py"), "--generate", str(n), str(seed), str(folder)], check=True, cwd=ROOT
        )
    return folder


def bench_size(n: int, *, seed: int, data: Path, work: Path, timeout: float, skip_analyze: bool) -> list[Run]:
    from bench_common import differences, normalise

    t0 = time.perf_counter()
    folder = generated(n, seed=seed, data=data)
    print(f"\n{label(n)} patients: data in {folder} ({time.perf_counter() - t0:.0f} s)", flush=True)
    py = sys.executable
    runs: list[Run] = []

    def report(r: Run) -> None:
        t = "-" if r.seconds is None else f"{r.seconds:8.1f} s"
        cpu = "" if r.cpu is None else f"{r.cpu:8.1f} s CPU"
        print(f"  {LABELS[r.what]:34s} {t:>10s} {cpu:>14s}  {r.peak_mib:8.0f} MiB  {r.agrees} {r.note}", flush=True)

    ref_json = work / f"relational_{n}.json"
    m = timed(
        [py, str(HERE / "run.py"), "--measures", str(folder), str(ref_json)],
        timeout=timeout,
        log=work / f"relational_{n}.log",
        output=ref_json,
    )
    secs, note = m.seconds, m.note
    ref = None
    if secs is not None:
        done = json.loads(ref_json.read_text())
        ref = normalise(done["measures"])
        note = ", ".join(f"{k} {v:.1f} s" for k, v in done["stages"].items())
    runs.append(Run("relational", n, secs, m.peak_mib, note=note, cpu=m.cpu))
    report(runs[-1])

    if not skip_analyze:
        out = work / f"analyze_{n}"
        burnout = Path(py).with_name("burnout")
        cmd = [str(burnout), "analyze", str(folder), "--out", str(out)] if burnout.exists() else [py, "-m", "burnout.cli", "analyze", str(folder), "--out", str(out)]
        m = timed(cmd, timeout=timeout, log=work / f"analyze_{n}.log")
        secs, note = m.seconds, m.note
        agrees = ""
        if secs is not None and ref is not None:
            flow = json.loads((out / "results.json").read_text())["flow"]
            same = (flow["patients"], flow["threshold_met"], flow["completers"]) == (ref["patients"], ref["threshold_met"], ref["completers"])
            agrees = "yes (flow)" if same else "NO"
        runs.append(Run("analyze", n, secs, m.peak_mib, agrees, note, cpu=m.cpu))
        report(runs[-1])
        shutil.rmtree(out, ignore_errors=True)
        runs.append(_store_run(n, folder, work=work, timeout=timeout, ref=ref, burnout=burnout))
        report(runs[-1])

    result = work / f"core_{n}.json"
    m = timed([py, str(HERE / "bench_core.py"), str(folder), str(result)], timeout=timeout, log=work / f"core_{n}.log")
    agrees = ""
    if m.seconds is not None and ref is not None:
        flow = json.loads(result.read_text())["flow"]
        mine = (flow["patients"], flow["threshold_met"], flow["completers"], *(flow[f"responders_{s}"] for s in ("exhaustion", "cynicism", "professional_efficacy")))
        theirs = (ref["patients"], ref["threshold_met"], ref["completers"], *(ref["responders"][s] for s in ("exhaustion", "cynicism", "professional_efficacy")))
        agrees = "yes (flow, responders)" if mine == theirs else "NO"
    runs.append(Run("core", n, m.seconds, m.peak_mib, agrees, m.note, cpu=m.cpu))
    report(runs[-1])

    for impl in IMPLEMENTATIONS:
        result = work / f"{impl}_{n}.json"
        m = timed([py, str(HERE / f"bench_{impl}.py"), str(folder), str(result)], timeout=timeout, log=work / f"{impl}_{n}.log")
        secs, note = m.seconds, m.note
        agrees = ""
        if secs is not None and ref is not None:
            diff = differences(ref, normalise(json.loads(result.read_text())["measures"]))
            agrees = "yes" if not diff else "NO"
            if diff:
                note = f"{len(diff)} differences, e.g. {diff[0]}"
        runs.append(Run(impl, n, secs, m.peak_mib, agrees, note, cpu=m.cpu))
        report(runs[-1])
    return runs


def _store_run(n: int, folder: Path, *, work: Path, timeout: float, ref: dict | None, burnout: Path) -> Run:
    """`burnout import` the folder into a DuckDB store once (not timed here), then time `analyze` on the store."""
    py = sys.executable
    store = work / f"store_{n}.duckdb"
    base = [str(burnout)] if burnout.exists() else [py, "-m", "burnout.cli"]
    t0 = time.perf_counter()
    done = subprocess.run([*base, "import", str(folder), f"duckdb://{store}"], cwd=ROOT, capture_output=True, text=True)
    imported = time.perf_counter() - t0
    if done.returncode != 0:
        return Run("store", n, None, 0.0, note=f"import failed: {done.stdout.strip()[-120:]}")
    out = work / f"store_out_{n}"
    m = timed([*base, "analyze", f"duckdb://{store}", "--out", str(out)], timeout=timeout, log=work / f"store_{n}.log")
    agrees = ""
    if m.seconds is not None and ref is not None:
        flow = json.loads((out / "results.json").read_text())["flow"]
        same = (flow["patients"], flow["threshold_met"], flow["completers"]) == (ref["patients"], ref["threshold_met"], ref["completers"])
        agrees = "yes (flow)" if same else "NO"
    shutil.rmtree(out, ignore_errors=True)
    store.unlink(missing_ok=True)
    return Run("store", n, m.seconds, m.peak_mib, agrees, f"import once {imported:.1f} s" if m.seconds else m.note, cpu=m.cpu)


def table(runs: list[Run]) -> str:
    sql = {r.patients: r.seconds for r in runs if r.what == "sql"}
    sql_cpu = {r.patients: r.cpu for r in runs if r.what == "sql"}
    core = {r.patients: r.seconds for r in runs if r.what == "core"}
    lines = [
        "| patients | implementation | time (s) | x core SQL | x raw SQL | CPU (s) | CPU x raw SQL | peak memory (MiB) | same numbers as burnout |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        base, base_cpu = sql.get(r.patients), sql_cpu.get(r.patients)
        ratio = f"{r.seconds / base:.2f}" if r.seconds and base else "-"
        base_core = core.get(r.patients)
        ratio = (f"{r.seconds / base_core:.2f}" if r.seconds and base_core else "-") + " | " + ratio
        cpu_ratio = f"{r.cpu / base_cpu:.2f}" if r.seconds and r.cpu and base_cpu else "-"
        cpu = f"{r.cpu:.1f}" if r.seconds and r.cpu is not None else "-"
        t = f"{r.seconds:.1f}" if r.seconds is not None else f"- ({r.note})"
        what = LABELS[r.what] + (f" ({r.note})" if r.seconds is not None and r.note else "")
        lines.append(
            f"| {r.patients:,} | {what} | {t} | {ratio} | {cpu} | {cpu_ratio} | {r.peak_mib:,.0f} | {r.agrees or '(reference)'} |"
        )
    return "\n".join(lines)


def scaling(runs: list[Run]) -> str:
    """Seconds per million patients at each size: flat = linear cost."""
    sizes = sorted({r.patients for r in runs})
    head = "| implementation | " + " | ".join(f"s per 1M patients at {label(n)}" for n in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]
    for what in LABELS:
        cells = []
        for n in sizes:
            r = next((r for r in runs if r.what == what and r.patients == n), None)
            cells.append(f"{r.seconds / n * 1e6:.1f}" if r and r.seconds else "-")
        if any(c != "-" for c in cells):
            lines.append(f"| {LABELS[what]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def breakdown(runs: list[Run]) -> str:
    """burnout's time by stage: the relational stage's split, and the rest of the whole command."""
    lines = [
        "| patients | load + validate | patient table | measures | rest of `burnout analyze` (beyond completers, report, start-up) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n in sorted({r.patients for r in runs}):
        rel = next((r for r in runs if r.what == "relational" and r.patients == n and r.seconds), None)
        ana = next((r for r in runs if r.what == "analyze" and r.patients == n and r.seconds), None)
        if rel is None:
            continue
        parts = {k.strip(): v for k, v in re.findall(r"([a-z +]+?) ([0-9.]+) s", rel.note)}
        rest = f"{ana.seconds - rel.seconds:.1f}" if ana and ana.seconds > rel.seconds else "-"
        cells = [parts.get(k, "-") for k in ("load + validate", "patient table", "measures")]
        lines.append(f"| {n:,} | " + " | ".join(cells) + f" | {rest} |")
    return "\n".join(lines)


def machine() -> str:
    """One line about the machine and versions (read from package metadata: this
    process stays small, so the children it forks do not inherit a large peak RSS)."""
    from importlib.metadata import version

    try:
        load = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        load = "?"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return (
        f"{dt.date.today().isoformat()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs visible{mem}; "
        f"1-minute load average {load} at the start (the machine is shared); Python {platform.python_version()}, "
        f"burnout {version('burnout')} (git {commit}), duckdb {version('duckdb')}, polars {version('polars')}, "
        f"pandas {version('pandas')}"
    )


MEMORY_HEADING = "### Memory: `burnout analyze` on a large cohort"


def write_readme(*, main: str | None = None, memory: str | None = None) -> None:
    """Replace this benchmark's section of benchmarks/README.md (other sections are kept).

    The section is the scale table (``main``) followed by the large-cohort memory
    check (``memory``); a run that produces one part keeps the other as it was.
    """
    from bench_common import read_section, replace_section

    old_main, _, old_memory = read_section(HEADING).partition(MEMORY_HEADING)
    main_text = (main or old_main or HEADING).rstrip()
    memory_text = memory.rstrip() if memory else (MEMORY_HEADING + old_memory).rstrip() if old_memory else ""
    replace_section(HEADING, main_text + ("\n\n" + memory_text if memory_text else ""))


def memory_check(n: int, *, seed: int, data: Path, timeout: float) -> str:
    """Run ``burnout analyze`` alone on ``n`` patients, from Parquet and from a validated
    store (``burnout import`` once, also measured); the README subsection text."""
    t0 = time.perf_counter()
    folder = generated(n, seed=seed, data=data)
    gen = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in folder.glob("*.parquet"))
    burnout = str(Path(sys.executable).with_name("burnout"))
    with tempfile.TemporaryDirectory(prefix="burnout-bench-", dir=data) as tmp:
        out, store = Path(tmp) / "out", Path(tmp) / "cohort.duckdb"
        parquet = timed([burnout, "analyze", str(folder), "--out", str(out)], timeout=timeout, log=Path(tmp) / "log")
        flow = json.loads((out / "results.json").read_text())["flow"] if parquet.seconds is not None else {}
        shutil.rmtree(out, ignore_errors=True)
        imported = timed([burnout, "import", str(folder), f"duckdb://{store}"], timeout=timeout, log=Path(tmp) / "ilog")
        store_mib = store.stat().st_size / 2**20 if store.exists() else 0.0
        stored = (
            timed([burnout, "analyze", f"duckdb://{store}", "--out", str(out)], timeout=timeout, log=Path(tmp) / "slog")
            if imported.seconds is not None
            else imported
        )
    import pyarrow.parquet as pq  # only now: this process's size no longer matters

    rows = {f.stem: pq.ParquetFile(f).metadata.num_rows for f in sorted(folder.glob("*.parquet"))}
    results = {what: _memory_line(m) for what, m in (("Parquet", parquet), ("import", imported), ("store", stored))}
    for what, line in results.items():
        print(f"{label(n)} {what}: {line}", flush=True)
    counts = ", ".join(f"{k} {v:,}" for k, v in rows.items())
    return "\n\n".join(
        [
            MEMORY_HEADING,
            f"Measured {machine()}.",
            f"Command: `python benchmarks/run.py --memory {label(n)}`. Cohort: {n:,} simulated patients (seed {seed}; "
            f"rows: {counts}; {size / 2**20:,.0f} MiB of Parquet, "
            + (f"generated in {gen:,.0f} s)." if gen >= 1 else "generated by an earlier run).")
            + " Each command ran alone (DuckDB, default settings; `analyze` is the whole command including the report); "
            "the limit asked for is 24 GiB.",
            "\n".join(
                [
                    f"- `burnout analyze` on the Parquet folder: {results['Parquet']}.",
                    f"- `burnout import` of the folder into a DuckDB store: {results['import']}"
                    + (f"; the store file is {store_mib:,.0f} MiB." if imported.seconds is not None else "."),
                    "- `burnout analyze` on that store: "
                    + (results["store"] if imported.seconds is not None else "not run (no store)")
                    + ".",
                ]
            )
            + (
                f"\n\nFlow: {_count(flow.get('patients'))} patients, {_count(flow.get('threshold_met'))} met the "
                f"threshold, {_count(flow.get('completers'))} completers."
                if flow
                else ""
            ),
        ]
    )


def _memory_line(m: Measured) -> str:
    if m.seconds is None:
        return f"did not complete ({m.note})"
    return f"{m.seconds:,.0f} s, CPU {m.cpu:,.0f} s, peak resident memory {m.peak_mib:,.0f} MiB ({m.peak_mib / 1024:.1f} GiB)"


def _count(value: int | None) -> str:
    """A flow count; results.json has null for one the publication layer hid."""
    return "hidden" if value is None else f"{value:,}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100k,1M,5M", help="comma-separated patient counts (default 100k,1M,5M)")
    ap.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    ap.add_argument("--data", type=Path, default=HERE / "data", help="where cohorts are generated and kept")
    ap.add_argument("--timeout", type=float, default=3 * 3600, help="seconds before a process is stopped (default 3 h)")
    ap.add_argument("--skip-analyze", action="store_true", help="leave out the whole `burnout analyze` command")
    ap.add_argument("--repeat", type=int, default=3, help="run each measurement N times and keep the fastest (default 3; the machine may be shared)")
    ap.add_argument("--write-readme", action="store_true", help=f"put the table into benchmarks/README.md under {HEADING!r}")
    ap.add_argument("--memory", type=parse_size, metavar="SIZE", help="instead: run `burnout analyze` alone on SIZE patients (e.g. 10M), from Parquet and from a store, and record time and peak memory")
    ap.add_argument("--measures", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=3, metavar=("N", "SEED", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measures:
        relational_measures(Path(args.measures[0]), Path(args.measures[1]))
        return 0
    if args.generate:
        from bench_common import generate

        generate(Path(args.generate[2]), patients=int(args.generate[0]), seed=int(args.generate[1]))
        return 0
    if args.memory:
        text = memory_check(args.memory, seed=args.seed, data=args.data, timeout=args.timeout)
        print("\n" + text)
        if args.write_readme:
            write_readme(memory=text)
        return 0

    global REPEAT
    REPEAT = max(1, args.repeat)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    about = machine()
    print(about)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="burnout-bench-") as tmp:
        for n in sizes:
            runs += bench_size(n, seed=args.seed, data=args.data, work=Path(tmp), timeout=args.timeout, skip_analyze=args.skip_analyze)
    command = "python benchmarks/run.py" + ("" if args.sizes == "100k,1M,5M" else f" --sizes {args.sizes}")
    command += " --skip-analyze" if args.skip_analyze else ""
    command += f" --repeat {REPEAT}" if REPEAT > 1 else ""
    text = "\n\n".join(
        [
            HEADING,
            f"Measured {about}.",
            f"Command: `{command}` (`make bench` runs `python benchmarks/run.py`: every default size, best of 3). Simulated cohorts "
            f"(`burnout.simulate`, seed {args.seed}) as Parquet, generated once into benchmarks/data/. Every row is a "
            "separate process; time is wall-clock from start to exit"
            + (f" (the fastest of {REPEAT} runs)" if REPEAT > 1 else "")
            + ", CPU the process's user + system time (on a shared machine wall time swings with other "
            "people's jobs, CPU time much less; DuckDB and polars use both cores, pandas one), memory its peak RSS. "
            "\"burnout relational stage only\" is load + validate + patient table + measures, the work the "
            "hand-written versions do; \"same numbers\" means every count, sum and sum of squares equals burnout's.",
            table(runs),
            "Cost per patient (seconds per million patients; equal across sizes means the cost grows linearly):",
            scaling(runs),
            "Where burnout's time goes (seconds; the rest is the whole command's time minus the relational stage's):",
            breakdown(runs),
        ]
    )
    print("\n" + text)
    if args.write_readme:
        write_readme(main=text)
    bad = [r for r in runs if r.agrees == "NO"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
