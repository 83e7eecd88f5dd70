"""Benchmark: where load + validate + patient table spend their time, query by query.

Usage: python benchmarks/bench_validate.py COHORT_DIR [--repeat N]

Times, in one process, ``load_cohort`` (reading, the parse materialised per table,
the rule counts, the fingerprint) and ``build_patient_table(...).cache()``, wall and
CPU (this process's threads, DuckDB's included), and lists the engine queries of the
fastest run by the step that sent them. The 1-minute load average is printed beside
each run: the machine is usually shared.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from collections import defaultdict
from pathlib import Path

from ibis.backends.duckdb import Backend

STEPS = {  # the burnout function that sent a query -> the step it belongs to
    "_materialise": "parse (materialised per table)",
    "_counts": "rule counts",
    "_failing": "rule counts",
    "_warning_details": "rule counts",
    "_date_order": "rule counts",
    "content_fingerprint": "fingerprint",
    "_duckdb_sums": "fingerprint",
}
_log: list[tuple[str, float, float]] = []


def _step() -> str:
    names = [f.name for f in traceback.extract_stack() if "burnout" in f.filename]
    for name in reversed(names):
        if name in STEPS:
            return STEPS[name]
    return "patient table" if "build_patient_table" in names or not names else "other"


def _timed(method_name: str) -> None:
    method = getattr(Backend, method_name)

    def timed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return method(self, *args, **kwargs)
        finally:
            _log.append((_step(), time.perf_counter() - wall, time.process_time() - cpu))

    setattr(Backend, method_name, timed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    for name in ("to_pyarrow", "create_table", "raw_sql"):
        _timed(name)
    from burnout.cohort import build_patient_table
    from burnout.ingest import load_cohort
    from burnout.plan import load_protocol

    plan = load_protocol(None)
    best: tuple[float, dict[str, list[float]], str] | None = None
    for _ in range(args.repeat):
        _log.clear()
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        cohort = load_cohort(
            args.folder,
            scheduled_assessments=tuple(plan.schedule.assessments),
            scheduled_sessions=plan.schedule.sessions,
            max_missing_items=plan.scoring.max_missing_items,
        )
        loaded = (time.perf_counter() - wall, time.process_time() - cpu)
        build_patient_table(cohort, plan).cache()
        total = (time.perf_counter() - wall, time.process_time() - cpu)
        steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for step, w, c in _log:
            steps[step][0] += w
            steps[step][1] += c
        line = (
            f"load_cohort {loaded[0]:.2f} s wall {loaded[1]:.2f} s CPU; with the patient table "
            f"{total[0]:.2f} s wall {total[1]:.2f} s CPU (load average {load:.1f}; fingerprint {cohort.fingerprint[:12]})"
        )
        print(line, flush=True)
        if best is None or total[0] < best[0]:
            best = (total[0], dict(steps), line)
        del cohort
    assert best is not None
    print(f"fastest: {best[2]}")
    for step, (w, c) in sorted(best[1].items(), key=lambda kv: -kv[1][0]):
        print(f"  {step:32s} {w:6.2f} s wall {c:6.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
