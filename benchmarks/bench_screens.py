"""What a fused validation (issue 15's first build step) could save, measured before building it.

Usage: python benchmarks/bench_screens.py FOLDER

FOLDER is a Parquet cohort (e.g. benchmarks/data/scale_1M_seed1). Prints, best of 3 wall
seconds, in DuckDB on the same tables in memory:

1. per table keyed by patient and timepoint, the one sort validation runs today (rows in
   (patient, timepoint, line) order, neighbours compared: duplicates and the date-order
   screen) against a per-patient screen (a group-by with each scheduled timepoint's count
   and date) and against a group-by for duplicates alone;
2. after ``load_cohort``, the rule-count scan of each table and the data fingerprint's
   scan (:mod:`burnout.ingest.fingerprint`) run apart and as one query per table.
"""

from __future__ import annotations

import sys
import time
from typing import Any

_KEYED = {  # table: (timepoint, date, scheduled timepoints)
    "mbi_gs": ("after_session", "completed_on", (0, 2, 4, 6)),
    "sessions": ("session", "held_on", (1, 2, 3, 4, 5, 6)),
    "phq9": ("after_session", "completed_on", (0, 2, 4, 6)),
}
_BYTE_SUMS = ", ".join(f"sum(({'lo' if j < 8 else 'hi'} >> {8 * (j % 8)}) & 255)" for j in range(16))


def _best(db: Any, sql: str) -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        db.execute(sql).fetchall()
        times.append(time.perf_counter() - t0)
    return min(times)


def _screens(folder: str) -> list[str]:
    import duckdb

    db = duckdb.connect()
    db.execute("SET enable_progress_bar = false")
    rows = []
    for t, (key, date, keys) in _KEYED.items():
        db.execute(f"CREATE TABLE {t} AS SELECT *, row_number() OVER () + 1 AS _line FROM '{folder}/{t}.parquet'")
        n = db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
        w = f"OVER (ORDER BY patient_id, {key}, _line)"
        sort = f"""SELECT count_if(a), count_if(b) FROM (SELECT
            coalesce((patient_id = lag(patient_id) {w} AND {key} = lag({key}) {w})
                  OR (patient_id = lead(patient_id) {w} AND {key} = lead({key}) {w}), false) AS a,
            coalesce(patient_id = lag(patient_id) {w} AND ({date} < lag({date}) {w}
                  OR ({date} IS NULL AND lag({date}) {w} IS NOT NULL)), false) AS b FROM {t})"""
        per = ", ".join(
            f"count(*) FILTER ({key} = {k}) AS c{k}, max({date}) FILTER ({key} = {k}) AS d{k}" for k in keys
        )
        dup = " OR ".join(f"c{k} > 1" for k in keys)
        order = " OR ".join(f"d{b} < d{a}" for a, b in zip(keys, keys[1:]))
        pivot = f"""SELECT count_if({dup}), count_if(coalesce({order}, false)), sum(blank) FROM (
            SELECT patient_id, {per}, count_if({date} IS NULL) AS blank FROM {t} GROUP BY patient_id)"""
        pairs = f"SELECT count(*) FROM (SELECT patient_id, {key} FROM {t} GROUP BY ALL HAVING count(*) > 1)"
        rows.append(f"| {t}, {n:,} rows | {_best(db, sort):.2f} | {_best(db, pivot):.2f} | {_best(db, pairs):.2f} |")
    return rows


def _fused(folder: str) -> str:
    import ibis

    import burnout.ingest.checks as checks
    from burnout.ingest import load_cohort
    from burnout.ingest.fingerprint import _row_text
    from burnout.schema import table_columns

    con = ibis.duckdb.connect()
    counted: dict[str, str] = {}
    real = checks._counts

    def keep(spec: Any, warn: Any, extra: Any) -> dict[str, Any]:  # the first (windowless) scan's query
        flags = spec.t.mutate(**{f"_b{i}": c.bad.fill_null(False) for i, c in enumerate(spec.checks) if not c.windowed})
        sums = {k: checks._count(flags[k]).sum() for k in flags.columns if k.startswith("_b")}
        counted[spec.name] = con.compile(flags.aggregate(_rows=flags.count(), **sums))
        return real(spec, warn, extra)

    checks._counts = keep  # type: ignore[assignment]
    cohort = load_cohort(folder, con=con)
    db = con.con
    db.execute("SET enable_progress_bar = false")
    apart = together = 0.0
    for name, t in cohort.file_columns.items():
        text = con.compile(t.select(_x=_row_text(t, table_columns(name))))
        hashed = f"SELECT md5_number(_x) AS h FROM ({text})"
        fingerprint = (
            f"SELECT count(*), {_BYTE_SUMS} FROM (SELECT h & {2**64 - 1} AS lo, h >> 64 AS hi FROM ({hashed}))"
        )
        apart += _best(db, counted[name]) + _best(db, fingerprint)
        together += _best(db, f"SELECT * FROM ({counted[name]}), ({fingerprint})")
    return f"rule counts and fingerprint, 4 tables: {apart:.2f} s apart, {together:.2f} s as one query per table"


def main() -> None:
    folder = sys.argv[1]
    print("| table | the sort (now) | per-patient screen | duplicates alone by group-by |")
    print("|---|---:|---:|---:|")
    print("\n".join(_screens(folder)))
    print(_fused(folder))


if __name__ == "__main__":
    main()
