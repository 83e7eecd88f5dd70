"""Benchmark: read + validate (+ score) a 1M-patient cohort.

Generates (once, cached in benchmarks/data/, which git ignores) a synthetic cohort
with vectorised numpy + pyarrow: 1,000,000 patients, 4 MBI-GS assessments each
(4,000,000 rows, 16 items, some blank) and 6 sessions each (6,000,000 rows), as
Parquet (or CSV with --format csv). Then times, in one fresh process:

1. ``read_cohort``    files into the engine with line/row numbers (CSV as text,
                       Parquet as typed)
2. ``validate_cohort`` every data-contract rule; typed tables materialised
3. ``score_mbi``       subscale scores for every assessment, materialised

and prints rows per second and the peak resident memory of the process
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``: Python, Arrow and DuckDB together).
With ``--write-readme`` the numbers and the command go into benchmarks/README.md
under "## Load + validate + score (1M patients)" (other sections are kept).

Run:  .venv/bin/python benchmarks/bench_load.py --repeat 3 --write-readme
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
HEADING = "## Load + validate + score (1M patients)"


def generate(folder: Path, *, patients: int, seed: int, fmt: str) -> None:
    """Write a valid synthetic cohort; every column vectorised, no per-row Python."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = pa.array(np.char.add("P", np.char.zfill(np.arange(1, patients + 1).astype(str), 7)))

    def text_choice(options: list[str], size: int, p: list[float]) -> pa.Array:
        idx = rng.choice(len(options), size=size, p=p).astype(np.int8)
        return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(options)).cast(pa.string())

    age = rng.integers(18, 71, size=patients)
    age_mask = rng.random(patients) < 0.02  # some blank ages
    patients_t = pa.table(
        {
            "patient_id": ids,
            "age": pa.array(age, mask=age_mask),
            "sex": text_choice(["female", "male", "other", ""], patients, [0.6, 0.37, 0.02, 0.01]),
            "route": text_choice(["sublingual", "subcutaneous", ""], patients, [0.5, 0.45, 0.05]),
            "pathway": text_choice(["burnout", "depression", "anxiety", ""], patients, [0.5, 0.3, 0.15, 0.05]),
        }
    )

    timepoints = np.array([0, 2, 4, 6])
    n_a = patients * len(timepoints)
    pid_a = np.repeat(np.arange(patients), len(timepoints))
    start = np.datetime64("2023-01-02") + rng.integers(0, 365, size=patients).astype("timedelta64[D]")
    after = np.tile(timepoints, patients)
    mbi = {
        "patient_id": ids.take(pa.array(pid_a)),
        "after_session": pa.array(after.astype(np.int64)),
        "completed_on": pa.array(start[pid_a] + (after * 7).astype("timedelta64[D]")),
    }
    for i in range(1, 17):
        vals = rng.integers(0, 7, size=n_a).astype(np.int64)
        mbi[f"item_{i}"] = pa.array(vals, mask=rng.random(n_a) < 0.01)  # about 1% blank items
    mbi_t = pa.table(mbi)

    n_s = patients * 6
    pid_s = np.repeat(np.arange(patients), 6)
    session = np.tile(np.arange(1, 7), patients)
    sessions_t = pa.table(
        {
            "patient_id": ids.take(pa.array(pid_s)),
            "session": pa.array(session.astype(np.int64)),
            "held_on": pa.array(start[pid_s] + (session * 7 - 3).astype("timedelta64[D]")),
            "dose_mg": pa.array(rng.choice([1.5, 2.0, 2.5, 3.0], size=n_s)),
            "monitor_present": pa.array(rng.random(n_s) < 0.8),
            "side_effects": pa.array(rng.random(n_s) < 0.2, mask=rng.random(n_s) < 0.05),
            "serious_adverse_event": pa.array(rng.random(n_s) < 0.001, mask=rng.random(n_s) < 0.5),
        }
    )
    for name, table in (("patients", patients_t), ("mbi_gs", mbi_t), ("sessions", sessions_t)):
        if fmt == "parquet":
            pq.write_table(table, folder / f"{name}.parquet")
        else:
            pacsv.write_csv(table, folder / f"{name}.csv", pacsv.WriteOptions(quoting_style="none"))


def peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    ap.add_argument("--repeat", type=int, default=1, help="time this many loads; report best and median")
    ap.add_argument("--write-readme", action="store_true")
    args = ap.parse_args()

    folder = HERE / "data" / f"cohort_{args.patients}_{args.seed}_{args.format}"
    done = folder / ".complete"
    if not done.exists():
        t = time.perf_counter()
        generate(folder, patients=args.patients, seed=args.seed, fmt=args.format)
        done.write_text("ok\n")
        print(f"generated {folder} in {time.perf_counter() - t:.1f} s")
    rss_before = peak_mb()
    load_before = os.getloadavg()[0]

    import duckdb
    import ibis

    from burnout.ingest import read_cohort, validate_cohort
    from burnout.scoring import score_mbi

    runs: list[dict[str, float]] = []
    for _ in range(args.repeat):
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        raw = read_cohort(folder)
        timings["read"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        cohort = validate_cohort(raw)
        timings["validate"] = time.perf_counter() - t1
        raw.close()
        t2 = time.perf_counter()
        scores = score_mbi(cohort.mbi_gs, max_missing_items=1, has_items=cohort.mbi_has_items).cache()
        n_scored = scores.count().to_pyarrow().as_py()
        timings["score"] = time.perf_counter() - t2
        assert n_scored == cohort.rows["mbi_gs"]
        del scores
        timings["total"] = time.perf_counter() - t0
        runs.append(timings)
        if len(runs) < args.repeat:
            del cohort  # its engine tables are dropped with it
    rows = sum(cohort.rows.values())
    peak = peak_mb()
    best = min(runs, key=lambda r: r["total"])
    median = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]

    lines = [
        f"cohort: {cohort!r}",
        f"input: {args.format}, {sum(f.stat().st_size for f in folder.iterdir() if f.suffix in ('.csv', '.parquet')) / 1e6:,.0f} MB",
        f"runs: {len(runs)} (best / median)",
        *(f"{k:>9}: {best[k]:7.2f} s / {median[k]:7.2f} s" for k in best if k != "total"),
        f"    total: {best['total']:7.2f} s / {median['total']:7.2f} s  "
        f"({rows / best['total']:,.0f} / {rows / median['total']:,.0f} rows/s over {rows:,} rows)",
        f"peak RSS: {peak:,.0f} MB (before loading: {rss_before:,.0f} MB)",
    ]
    print("\n".join(lines))

    if args.write_readme:
        cmd = "  ".join(["python benchmarks/bench_load.py", *sys.argv[1:]]).replace("  ", " ")
        machine = (
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
            f"{platform.python_version()}, ibis {ibis.__version__}, duckdb {duckdb.__version__}; "
            f"1-minute load average {load_before:.1f} when it started (other jobs were running)"
        )
        steps = " + ".join(k for k in best if k != "total")
        section = "\n".join(
            [
                HEADING,
                "",
                f"Measured {dt.date.today().isoformat()} on {machine}.",
                f"Synthetic valid cohort from `generate()` (seed {args.seed}): {args.patients:,} patients, "
                f"{cohort.rows['mbi_gs']:,} MBI-GS assessments (16 items, ~1% blank), "
                f"{cohort.rows['sessions']:,} sessions, as {args.format.capitalize()}; "
                f"steps timed: {steps}, {len(runs)} times in one process, data files already generated. "
                "The machine is shared, so times vary with its load; best and median are shown.",
                "",
                "```",
                f"$ {cmd}",
                *lines,
                "```",
                "",
                "Peak RSS is the whole process (Python, Arrow, DuckDB), from `resource.getrusage`.",
                "",
            ]
        )
        from bench_common import README, replace_section

        replace_section(HEADING, section)
        print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
