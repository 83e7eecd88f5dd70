"""Benchmark: simulate a large synthetic cohort and write it as Parquet (or CSV).

    .venv/bin/python benchmarks/bench_simulate.py                 # 1,000,000 patients, Parquet
    .venv/bin/python benchmarks/bench_simulate.py --patients 200000 --fmt csv

Prints wall time of simulate_cohort and write_cohort, the peak resident memory of
this process (includes the interpreter and imports) and the rows and bytes written.
Run it in a fresh process: peak memory is measured for the whole process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from burnout.simulate import simulate_cohort, write_cohort


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20240917)
    ap.add_argument("--fmt", choices=["csv", "parquet"], default="parquet")
    ap.add_argument("--out", type=Path, default=None, help="folder to write into (default: a temporary one)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "cohort"
        t0 = time.perf_counter()
        cohort = simulate_cohort(patients=args.patients, seed=args.seed)
        t1 = time.perf_counter()
        files = write_cohort(cohort, out, fmt=args.fmt)
        t2 = time.perf_counter()
        size = sum(p.stat().st_size for p in files)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        rows = {n: getattr(cohort, n).num_rows for n in ("patients", "mbi_gs", "sessions", "phq9")}
        print(f"patients            {args.patients:,} ({cohort.threshold_met:,} met the threshold)")
        print("rows                " + ", ".join(f"{n} {r:,}" for n, r in rows.items()))
        print(f"simulate_cohort     {t1 - t0:.1f} s")
        print(f"write_cohort ({args.fmt}) {t2 - t1:.1f} s, {size / 2**20:.0f} MiB")
        print(f"total               {t2 - t0:.1f} s")
        print(f"peak memory (RSS)   {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
