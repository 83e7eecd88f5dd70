"""The relational work of ``burnout analyze``, hand-written in DuckDB SQL (the baseline).

Reads the Parquet cohort, scores the subscales, builds one row per patient with the
threshold/completion/response flags (materialised once), and computes every
aggregate burnout's measures stage computes, in four queries: flow, completer and
attrition moments, profiles x responses, subgroups (grouping sets). Sums of squares
are HUGEINT (exact). Returns the canonical form of bench_common.

Usage: python bench_sql.py COHORT_DIR [OUT.json]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from bench_common import (
    DIRECTION,
    ITEMS,
    PHQ9_SCALE,
    PLAN,
    REASONS,
    SCALE,
    SUBSCALES,
    cli_main,
    fold_profile_rows,
    profile_cutoffs,
)


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def patient_table_sql(folder: Path) -> str:
    p = PLAN
    tps = ", ".join(map(str, p.assessments))
    scored = []
    for s, items in ITEMS.items():
        n = " + ".join(f"CAST(item_{i} IS NOT NULL AS INTEGER)" for i in items)
        t = " + ".join(f"coalesce(item_{i}, 0)" for i in items)
        scored.append(
            f"CASE WHEN ({n}) >= 1 AND {len(items)} - ({n}) <= {p.max_missing} "
            f"THEN CAST({t} AS BIGINT) * {SCALE} // ({n}) END AS {s}"
        )
    wide = [f"max({s}) FILTER (WHERE after_session = {t}) AS {s}_{t}" for t in p.assessments for s in SUBSCALES]
    n9 = " + ".join(f"CAST(item_{i} IS NOT NULL AS INTEGER)" for i in range(1, 10))
    t9 = " + ".join(f"coalesce(item_{i}, 0)" for i in range(1, 10))
    phq = [f"max(phq9) FILTER (WHERE after_session = {t}) AS phq9_{t}" for t in p.assessments]
    se = [f"max(CAST(side_effects AS INTEGER)) FILTER (WHERE session = {k}) AS side_effects_{k}" for k in p.assessments if k > 0]
    bands = " ".join(
        f"WHEN age >= {lo}" + (f" AND age < {hi}" if hi else "") + f" THEN '{label}'" for label, lo, hi in p.age_bands
    )

    def thr(t: int) -> str:
        return f"(exhaustion_{t} >= {p.e_min} AND (cynicism_{t} >= {p.c_min} OR professional_efficacy_{t} <= {p.pe_max}))"

    all_scored = " AND ".join(f"{s}_{t} IS NOT NULL" for s in SUBSCALES for t in p.assessments)
    resp = {
        s: f"coalesce(({s}_{p.last} - {s}_{p.first}) * {DIRECTION[s]} >= {p.min_change}, false)" for s in SUBSCALES
    }
    return f"""
CREATE OR REPLACE TEMP TABLE pt AS
WITH mbi AS (
  SELECT patient_id, after_session, {", ".join(scored)}
  FROM read_parquet({_q(folder / "mbi_gs.parquet")}) WHERE after_session IN ({tps})
), mw AS (
  SELECT patient_id, {", ".join(wide)} FROM mbi GROUP BY patient_id
), sw AS (
  SELECT patient_id,
    count(*) FILTER (WHERE session BETWEEN 1 AND {p.sessions}) AS sessions_delivered,
    count(*) AS sessions_total,
    sum(CAST(coalesce(serious_adverse_event, false) AS INTEGER)) AS sae_count,
    {", ".join(se)}
  FROM read_parquet({_q(folder / "sessions.parquet")}) GROUP BY patient_id
), phq AS (
  SELECT patient_id, after_session,
    CASE WHEN ({n9}) >= 7 THEN CAST({t9} AS BIGINT) * {9 * PHQ9_SCALE} // ({n9}) END AS phq9
  FROM read_parquet({_q(folder / "phq9.parquet")}) WHERE after_session IN ({tps})
), pw AS (
  SELECT patient_id, {", ".join(phq)} FROM phq GROUP BY patient_id
), base AS (
  SELECT pa.patient_id, pa.age,
    CASE {bands} ELSE 'unknown' END AS age_band,
    coalesce(nullif(lower(trim(pa.sex)), ''), 'unknown') AS sex,
    coalesce(nullif(lower(trim(pa.route)), ''), 'unknown') AS route,
    coalesce(nullif(lower(trim(pa.pathway)), ''), 'unknown') AS pathway,
    mw.* EXCLUDE (patient_id), pw.* EXCLUDE (patient_id),
    coalesce(sw.sessions_delivered, 0) AS sessions_delivered,
    coalesce(sw.sessions_total, 0) AS sessions_total,
    coalesce(sw.sae_count, 0) AS sae_count,
    {", ".join(f"sw.side_effects_{k}" for k in p.assessments if k > 0)}
  FROM read_parquet({_q(folder / "patients.parquet")}) pa
  LEFT JOIN mw USING (patient_id) LEFT JOIN sw USING (patient_id) LEFT JOIN pw USING (patient_id)
), flags AS (
  SELECT *, {thr(p.first)} AS _thr0, coalesce({all_scored}, false) AS all_assessments FROM base
)
SELECT * EXCLUDE (_thr0),
  CASE WHEN sex = 'female' THEN 1 WHEN sex = 'male' THEN 0 END AS female,
  _thr0 IS NOT NULL AS baseline_scored,
  coalesce(_thr0, false) AS threshold_met,
  coalesce(_thr0, false) AND sessions_delivered >= {p.sessions} AND all_assessments AS completer,
  CASE WHEN _thr0 IS NULL THEN 'no_baseline' WHEN NOT _thr0 THEN 'below_threshold'
       WHEN sessions_delivered < {p.sessions} THEN 'missed_sessions' WHEN NOT all_assessments THEN 'missed_assessment' END AS exclusion,
  {", ".join(f"{r} AS response_{s}" for s, r in resp.items())},
  {" + ".join(f"CAST({r} AS INTEGER)" for r in resp.values())} AS responses,
  {", ".join(f"{thr(t)} AS threshold_{t}" for t in p.assessments)}
FROM flags
"""


def _mom(expr: str, where: str) -> list[str]:
    return [
        f"count({expr}) FILTER (WHERE {where})",
        f"sum(CAST({expr} AS HUGEINT)) FILTER (WHERE {where})",
        f"sum(CAST({expr} AS HUGEINT) * CAST({expr} AS HUGEINT)) FILTER (WHERE {where})",
    ]


def _int(v: Any) -> int:
    return 0 if v is None else int(v)


def run(folder: Path, *, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    p = PLAN
    db = con or duckdb.connect()
    db.execute(patient_table_sql(folder))
    out: dict[str, Any] = {}

    # 1. flow
    flow = dict(db.execute("SELECT exclusion, count(*) FROM pt GROUP BY exclusion").fetchall())
    out["patients"] = sum(flow.values())
    out["exclusions"] = {r: flow.get(r, 0) for r in REASONS}
    out["completers"] = flow.get(None, 0)
    out["threshold_met"] = out["patients"] - out["exclusions"]["no_baseline"] - out["exclusions"]["below_threshold"]

    # 2. completer moments, counts, attrition: one scan of the threshold-met patients
    c = "completer"
    cols: dict[str, list[str]] = {}
    for s in SUBSCALES:
        for t in p.assessments:
            cols[f"score|{s}_{t}"] = _mom(f"{s}_{t}", c)
            if t != p.first:
                cols[f"change|{s}_{t}"] = _mom(f"{s}_{t} - {s}_{p.first}", c)
        cols[f"plateau|{s}"] = _mom(f"{s}_{p.last} - {s}_{p.assessments[-2]}", c)
        cols[f"resp|{s}"] = [f"count(*) FILTER (WHERE {c} AND response_{s})"]
    for k in (1, 2, 3):
        cols[f"respn|{k}"] = [f"count(*) FILTER (WHERE {c} AND responses {'>=' if k < 3 else '='} {k})"]
    for t in p.assessments:
        cols[f"below|{t}"] = [f"count(*) FILTER (WHERE {c} AND NOT threshold_{t})"]
    for k in p.assessments:
        if k > 0:
            cols[f"se|{k}"] = [f"sum(side_effects_{k}) FILTER (WHERE {c})", f"count(side_effects_{k}) FILTER (WHERE {c})"]
    cols["sae|"] = [f"sum(sae_count) FILTER (WHERE {c})", f"sum(sessions_total) FILTER (WHERE {c})"]
    variables = {"age": "age", **{s: f"{s}_{p.first}" for s in SUBSCALES}, "phq9": f"phq9_{p.first}"}
    binaries = {"female": "female", "subcutaneous": "CASE WHEN route = 'subcutaneous' THEN 1 WHEN route = 'sublingual' THEN 0 END"}
    for group, where in (("completers", c), ("non_completers", f"NOT {c}")):
        for v, e in variables.items():
            cols[f"acont|{group}|{v}"] = _mom(e, where)
        for v, e in binaries.items():
            cols[f"abin|{group}|{v}"] = [f"sum({e}) FILTER (WHERE {where})", f"count({e}) FILTER (WHERE {where})"]
    for j in range(p.sessions + 1):
        cols[f"reach|{j}"] = [f"count(*) FILTER (WHERE sessions_delivered >= {j})"]
    exprs = [e for es in cols.values() for e in es]
    row = [_int(v) for v in db.execute(f"SELECT {', '.join(exprs)} FROM pt WHERE threshold_met").fetchone()]
    got: dict[str, list[int]] = {}
    i = 0
    for key, es in cols.items():
        got[key] = row[i : i + len(es)]
        i += len(es)
    out["scores"] = {k.split("|")[1]: v for k, v in got.items() if k.startswith("score|")}
    out["changes"] = {k.split("|")[1]: v for k, v in got.items() if k.startswith("change|")}
    out["plateau"] = {k.split("|")[1]: v for k, v in got.items() if k.startswith("plateau|")}
    out["responders"] = {s: got[f"resp|{s}"][0] for s in SUBSCALES}
    out["responder_counts"] = {str(k): got[f"respn|{k}"][0] for k in (1, 2, 3)}
    out["below_threshold"] = {str(t): got[f"below|{t}"][0] for t in p.assessments}
    out["side_effects"] = {str(k): got[f"se|{k}"] for k in p.assessments if k > 0}
    out["sae"] = got["sae|"]

    # 3. profiles (z cut-offs from the completers' baseline), transitions, response patterns
    cut = profile_cutoffs({s: out["scores"][f"{s}_{p.first}"] for s in SUBSCALES})
    out["cutoffs"] = cut

    def profile(t: int) -> str:
        e, cy, pe = (f"exhaustion_{t} >= {cut['exhaustion']}", f"cynicism_{t} >= {cut['cynicism']}",
                     f"professional_efficacy_{t} <= {cut['professional_efficacy']}")
        return (f"CASE WHEN {e} AND {cy} THEN 'burnout' WHEN {e} THEN 'overextended' WHEN {cy} THEN 'disengaged' "
                f"WHEN {pe} THEN 'ineffective' ELSE 'engaged' END")

    keys = [f"{profile(t)} AS p{t}" for t in p.assessments] + [f"response_{s}" for s in SUBSCALES]
    rows = db.execute(f"SELECT {', '.join(keys)}, count(*) FROM pt WHERE completer GROUP BY ALL").fetchall()
    fold_profile_rows(rows, tuple(p.assessments), out)

    # 4. subgroups and completion by subgroup: grouping sets over the threshold-met patients
    sets = ", ".join(f"({v})" for v in p.subgroups)
    aggs = [
        "count(*) FILTER (WHERE completer)",
        "count(*) FILTER (WHERE completer AND responses >= 1)",
        *(f"count(*) FILTER (WHERE completer AND response_{s})" for s in SUBSCALES),
        "count(*)",
    ]
    rows = db.execute(
        f"SELECT {', '.join(p.subgroups)}, {', '.join(aggs)} FROM pt WHERE threshold_met GROUP BY GROUPING SETS ({sets})"
    ).fetchall()
    out["subgroups"] = {v: {} for v in p.subgroups}
    out["attrition"] = {
        "continuous": {g: {v: got[f"acont|{g}|{v}"] for v in variables} for g in ("completers", "non_completers")},
        "binary": {g: {v: got[f"abin|{g}|{v}"] for v in binaries} for g in ("completers", "non_completers")},
        "reach": {str(j): got[f"reach|{j}"][0] for j in range(p.sessions + 1)},
        "completion": {v: {} for v in p.subgroups},
    }
    nv = len(p.subgroups)
    for r in rows:
        i = next(i for i in range(nv) if r[i] is not None)
        var, level = p.subgroups[i], str(r[i])
        n_comp, al1, *per, n_itt = r[nv:]
        if n_comp:
            out["subgroups"][var][level] = {"n": n_comp, "at_least_1": al1, **dict(zip(SUBSCALES, per, strict=True))}
        out["attrition"]["completion"][var][level] = [n_comp, n_itt]
    return out


if __name__ == "__main__":
    cli_main(run)
