"""Benchmark: the analyses beyond completers on the demo cohort.

Simulates the demo cohort (``simulate_cohort(seed=20240917)``: 1,642 patients who
met the threshold), writes it as CSV to a temporary folder, loads and validates it
and builds the patient table once, then times, each ``--repeat`` times in this process:

1. ``mixed model``          the per-pattern sufficient-statistics queries for the three
                            subscales and the three REML fits
2. ``multiple imputation``  pulling the numeric matrix of the threshold-met patients
                            and m = 20 imputations x 5 chained-equation sweeps
3. ``collect_beyond + beyond_results``  everything (all queries, MI, fits, the tree)

and prints the best and median wall time of each. The target is < 30 s on 2 cores
for the mixed model and MI together. With ``--write-readme`` the numbers and the
command go into benchmarks/README.md under "## Beyond completers (demo cohort)"
(other sections are kept; the section is appended when absent).

Run:  .venv/bin/python benchmarks/bench_beyond.py --write-readme
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADING = "## Beyond completers (demo cohort)"
SEED = 20240917


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step (default 3)")
    parser.add_argument("--write-readme", action="store_true", help="put the numbers into benchmarks/README.md")
    args = parser.parse_args(argv)

    import ibis

    from burnout.cohort import build_patient_table
    from burnout.ingest import load_cohort
    from burnout.instrument import SCALE, SUBSCALES
    from burnout.measures import IMPUTATIONS, ITERATIONS, collect_beyond
    from burnout.measures.extended import _collect_patterns, _impute
    from burnout.plan import load_protocol
    from burnout.results import beyond_results
    from burnout.simulate import simulate_cohort, write_cohort
    from burnout.stats import RandomInterceptModel

    plan = load_protocol()
    assessments = tuple(plan.schedule.assessments)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_cohort(simulate_cohort(seed=SEED), Path(tmp) / "demo")
        con = ibis.duckdb.connect()
        cohort = load_cohort(Path(tmp) / "demo", con=con)
        table = build_patient_table(cohort, plan).cache()
        itt = table.filter(table.threshold_met)
        setup = time.perf_counter() - t0

        def mixed() -> None:
            for s in SUBSCALES:
                RandomInterceptModel(method="reml").fit(_collect_patterns(itt, s, assessments), scale=SCALE)

        def imputation() -> None:
            _impute(itt, plan, assessments, imputations=20, iterations=10)

        def everything() -> None:
            bm = collect_beyond(table, cohort, plan)
            beyond_results(bm, plan, threshold_met=bm.threshold_met, completers=bm.completers)

        bm = collect_beyond(table, cohort, plan)
        times = {
            "mixed model (3 subscales: engine statistics + REML fits)": _time(mixed, args.repeat),
            f"multiple imputation (pull + m = {IMPUTATIONS} x {ITERATIONS} sweeps)": _time(imputation, args.repeat),
            "collect_beyond + beyond_results (everything)": _time(everything, args.repeat),
        }

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"Demo cohort: {bm.threshold_met:,} patients met the threshold ({bm.completers:,} completers); "
        f"setup (simulate, write CSV, load, validate, patient table) {setup:.1f} s.",
        "",
        "| step | best (s) | median (s) |",
        "|---|---|---|",
        *(f"| {name} | {min(ts):.2f} | {statistics.median(ts):.2f} |" for name, ts in times.items()),
        "",
        f"Machine: {platform.machine()}, {cpus} CPUs available, Python {platform.python_version()}, "
        f"{args.repeat} runs each. Target: mixed model + MI < 30 s on 2 cores.",
        "",
        "Command: `.venv/bin/python benchmarks/bench_beyond.py --write-readme`",
    ]
    print("\n".join(lines))
    if args.write_readme:
        _write_readme(lines)
    return 0


def _write_readme(lines: list[str]) -> None:
    from bench_common import replace_section

    replace_section(HEADING, HEADING + "\n\n" + "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
