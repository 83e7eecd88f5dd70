"""Where `burnout analyze` spends its time on one cohort: each stage timed in one process.

Usage: python benchmarks/bench_stages.py COHORT [--helper]

COHORT is a folder or a duckdb:/// store. Prints wall and CPU seconds (this process's
threads; a helper process's CPU is not counted) per stage, the imports first, and the
1-minute load average at the start and the end (the machine may be shared).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    source = sys.argv[1]
    helper = "--helper" in sys.argv[2:]
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    wall, cpu = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal wall, cpu
        w, c = time.perf_counter(), time.process_time()
        print(f"  {name:40s} {w - wall:6.2f} s wall {c - cpu:6.2f} s CPU", flush=True)
        wall, cpu = w, c

    from burnout._warm import HELPER_MODULES, helper_process

    if helper:
        os.environ["BURNOUT_HELPER"] = "1"
    context = helper_process(*HELPER_MODULES)
    context.__enter__()
    import burnout.measures
    import burnout.results
    import burnout.stats

    lap("imports: statistics")
    import burnout.report.figures
    import burnout.report.html
    import burnout.report.tables  # noqa: F401

    lap("imports: report")
    from burnout import __version__
    from burnout.analysis import Analysis
    from burnout.cohort import build_patient_table
    from burnout.engines import connect_source
    from burnout.ingest import load_cohort
    from burnout.measures import collect_beyond, collect_measures
    from burnout.plan import load_protocol
    from burnout.report import write_report
    from burnout.results import build_results

    plan = load_protocol(None)
    con = connect_source(source)
    lap("plan + connection")
    cohort = load_cohort(
        source,
        scheduled_assessments=tuple(plan.schedule.assessments),
        scheduled_sessions=plan.schedule.sessions,
        max_missing_items=plan.scoring.max_missing_items,
        con=con,
    )
    lap("load + validate")
    table = build_patient_table(cohort, plan).cache()
    lap("patient table")
    measures = collect_measures(table, plan)
    lap("measures")
    beyond = collect_beyond(table, cohort, plan)
    lap("beyond completers (MI, MMRM, reliability)")
    meta = {"tool": "burnout", "version": __version__, "synthetic": False,
            "data_fingerprint": cohort.fingerprint, "backend": "duckdb"}
    result = Analysis(results=build_results(measures, plan, meta=meta, warnings=[], beyond=beyond))
    result.to_json()
    lap("results tree + JSON")
    with tempfile.TemporaryDirectory() as tmp:
        write_report(result.results, Path(tmp))
    lap("report (figures, tables, HTML)")
    context.__exit__(None, None, None)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
