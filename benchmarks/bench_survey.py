"""Benchmark `burnout survey` on 1,000,000 MBI-HSS respondents (Parquet).

Generates a one-factor-per-subscale synthetic file (seed 20240601, ~1% blank cells)
into benchmarks/data/ once, then runs the command in a fresh process per repeat and
reports wall time and peak RSS of that process (resource.getrusage of the child).

    python benchmarks/bench_survey.py --repeat 3 [--respondents 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
KEYS = {  # MBI-HSS subscale positions (mbi_hss.toml)
    "ee": (1, 2, 3, 6, 8, 13, 14, 16, 20),
    "dp": (5, 10, 11, 15, 22),
    "pa": (4, 7, 9, 12, 17, 18, 19, 21),
}


def generate(n: int, seed: int) -> Path:
    path = HERE / "data" / f"mbi_hss_{n}_{seed}.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for key, items in KEYS.items():
        factor = rng.normal(size=n)
        for pos in items:
            raw = np.clip(np.round(3 + 1.2 * factor + rng.normal(scale=1.1, size=n)), 0, 6).astype(np.int8)
            blank = rng.random(n) < 0.01
            columns[f"item_{pos}"] = pa.array(raw, mask=blank)
    table = pa.table({f"item_{p}": columns[f"item_{p}"] for p in range(1, 23)})
    pq.write_table(table, path)
    return path


def run_once(path: Path, out: Path) -> tuple[float, int]:
    cmd = [
        sys.executable,
        "-c",
        "from burnout.cli import main; main()",
        "survey",
        str(path),
        "--instrument",
        "mbi_hss",
        "--out",
        str(out),
    ]
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True, capture_output=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux; max over children so far
    return wall, max(peak, before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    path = generate(args.respondents, args.seed)
    out = HERE / "data" / "survey-out"
    print(f"input: {path.name}, {path.stat().st_size / 1e6:.0f} MB, {args.respondents:,} respondents x 22 items")
    walls = []
    peak = 0
    for _ in range(args.repeat):
        wall, peak = run_once(path, out)
        walls.append(wall)
    shutil.rmtree(out, ignore_errors=True)
    walls.sort()
    print(f"wall: best {walls[0]:.2f} s, median {walls[len(walls) // 2]:.2f} s over {args.repeat} runs")
    print(f"peak RSS of the survey process: {peak / 1024:,.0f} MB")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
