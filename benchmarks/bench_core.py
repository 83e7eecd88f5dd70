"""Run core_numbers.sql (the hand-written core numbers) on a Parquet cohort folder.

Usage: python bench_core.py COHORT_DIR [OUT.json]

Writes ``{"seconds": ..., "flow": {...}, "transitions": [...], "subgroups": [...]}``;
benchmarks/run.py checks the flow counts against burnout's results.json. The cut-offs
are computed in floating point (not burnout's exact rule), so a profile count may
differ by a patient at a boundary: only the flow and responders are compared.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent


def run(folder: Path) -> dict[str, object]:
    db = duckdb.connect()
    db.execute("SET VARIABLE cohort = ?", [str(folder)])
    lines = (HERE / "core_numbers.sql").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    results = []
    for statement in (s.strip() for s in script.split(";")):
        if not statement:
            continue
        cur = db.execute(statement)
        if statement.upper().startswith("SELECT"):
            cols = [d[0] for d in cur.description]
            results.append([dict(zip(cols, row, strict=True)) for row in cur.fetchall()])
    flow, transitions, subgroups = results
    return {"flow": {k: int(v or 0) for k, v in flow[0].items()}, "transitions": transitions, "subgroups": subgroups}


if __name__ == "__main__":
    t0 = time.perf_counter()
    got = run(Path(sys.argv[1]))
    got["seconds"] = time.perf_counter() - t0
    text = json.dumps(got, default=str)
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(text)
    else:
        print(text)
