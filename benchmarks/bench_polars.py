"""The relational work of ``burnout analyze``, hand-written in polars (lazy API).

Same steps and results as bench_sql.py: score, one row per patient with flags
(collected once), then the aggregates. Sums of squares in Int128 (exact).

Usage: python bench_polars.py COHORT_DIR [OUT.json]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

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


def _answered(items: list[str]) -> pl.Expr:
    return pl.sum_horizontal(*(pl.col(c).is_not_null().cast(pl.Int64) for c in items))


def _total(items: list[str]) -> pl.Expr:
    return pl.sum_horizontal(*(pl.col(c).cast(pl.Int64).fill_null(0) for c in items))


def patient_table(folder: Path) -> pl.DataFrame:
    p = PLAN
    mbi = pl.scan_parquet(folder / "mbi_gs.parquet").filter(pl.col("after_session").is_in(p.assessments))
    scored = []
    for s, items in ITEMS.items():
        cols = [f"item_{i}" for i in items]
        n, t = _answered(cols), _total(cols)
        ok = (n >= 1) & (len(cols) - n <= p.max_missing)
        scored.append(pl.when(ok).then(t * SCALE // n).otherwise(None).alias(s))
    mbi = mbi.select("patient_id", "after_session", *scored)
    mw = mbi.group_by("patient_id").agg(
        pl.col(s).filter(pl.col("after_session") == t).max().alias(f"{s}_{t}") for t in p.assessments for s in SUBSCALES
    )
    sess = pl.scan_parquet(folder / "sessions.parquet")
    sw = sess.group_by("patient_id").agg(
        pl.col("session").filter(pl.col("session").is_between(1, p.sessions)).count().alias("sessions_delivered"),
        pl.len().cast(pl.Int64).alias("sessions_total"),
        pl.col("serious_adverse_event").fill_null(False).cast(pl.Int64).sum().alias("sae_count"),
        *(
            pl.col("side_effects").filter(pl.col("session") == k).cast(pl.Int64).max().alias(f"side_effects_{k}")
            for k in p.assessments
            if k > 0
        ),
    )
    phq = pl.scan_parquet(folder / "phq9.parquet").filter(pl.col("after_session").is_in(p.assessments))
    items9 = [f"item_{i}" for i in range(1, 10)]
    n9, t9 = _answered(items9), _total(items9)
    phq = phq.select("patient_id", "after_session", pl.when(n9 >= 7).then(t9 * (9 * PHQ9_SCALE) // n9).otherwise(None).alias("phq9"))
    pw = phq.group_by("patient_id").agg(
        pl.col("phq9").filter(pl.col("after_session") == t).max().alias(f"phq9_{t}") for t in p.assessments
    )

    def norm(c: str) -> pl.Expr:
        v = pl.col(c).str.strip_chars().str.to_lowercase()
        return pl.when(v.is_null() | (v == "")).then(pl.lit("unknown")).otherwise(v).alias(c)

    band = pl.lit("unknown")
    for label, lo, hi in reversed(p.age_bands):
        cond = pl.col("age") >= lo if hi is None else (pl.col("age") >= lo) & (pl.col("age") < hi)
        band = pl.when(cond).then(pl.lit(label)).otherwise(band)
    pts = pl.scan_parquet(folder / "patients.parquet").select(
        "patient_id", "age", band.alias("age_band"), norm("sex"), norm("route"), norm("pathway")
    )
    t = pts.join(mw, on="patient_id", how="left").join(sw, on="patient_id", how="left").join(pw, on="patient_id", how="left")
    t = t.with_columns(pl.col("sessions_delivered", "sessions_total", "sae_count").fill_null(0))

    def thr(tp: int) -> pl.Expr:
        return (pl.col(f"exhaustion_{tp}") >= p.e_min) & (
            (pl.col(f"cynicism_{tp}") >= p.c_min) | (pl.col(f"professional_efficacy_{tp}") <= p.pe_max)
        )

    all_scored = pl.all_horizontal(*(pl.col(f"{s}_{tp}").is_not_null() for s in SUBSCALES for tp in p.assessments))
    t = t.with_columns(
        thr(p.first).alias("_thr0"),
        all_scored.alias("all_assessments"),
        pl.when(pl.col("sex") == "female").then(1).when(pl.col("sex") == "male").then(0).otherwise(None).alias("female"),
    )
    t = t.with_columns(
        pl.col("_thr0").is_not_null().alias("baseline_scored"),
        pl.col("_thr0").fill_null(False).alias("threshold_met"),
    )
    t = t.with_columns(
        (pl.col("threshold_met") & (pl.col("sessions_delivered") >= p.sessions) & pl.col("all_assessments")).alias("completer"),
        pl.when(pl.col("_thr0").is_null()).then(pl.lit("no_baseline"))
        .when(~pl.col("_thr0")).then(pl.lit("below_threshold"))
        .when(pl.col("sessions_delivered") < p.sessions).then(pl.lit("missed_sessions"))
        .when(~pl.col("all_assessments")).then(pl.lit("missed_assessment"))
        .otherwise(None).alias("exclusion"),
        *(
            (((pl.col(f"{s}_{p.last}") - pl.col(f"{s}_{p.first}")) * DIRECTION[s]) >= p.min_change).fill_null(False).alias(f"response_{s}")
            for s in SUBSCALES
        ),
        *(thr(tp).alias(f"threshold_{tp}") for tp in p.assessments),
    )
    t = t.with_columns(pl.sum_horizontal(*(pl.col(f"response_{s}").cast(pl.Int64) for s in SUBSCALES)).alias("responses"))
    return t.drop("_thr0").collect()


def _mom(e: pl.Expr, name: str) -> list[pl.Expr]:
    big = e.cast(pl.Int128)
    return [e.count().alias(f"{name}|n"), big.sum().alias(f"{name}|s"), (big * big).sum().alias(f"{name}|ss")]


def _int(v: Any) -> int:
    return 0 if v is None else int(v)


def run(folder: Path) -> dict[str, Any]:
    p = PLAN
    pt = patient_table(folder)
    out: dict[str, Any] = {}
    flow = {r["exclusion"]: r["len"] for r in pt.group_by("exclusion").len().to_dicts()}
    out["patients"] = sum(flow.values())
    out["exclusions"] = {r: flow.get(r, 0) for r in REASONS}
    out["completers"] = flow.get(None, 0)
    out["threshold_met"] = out["patients"] - out["exclusions"]["no_baseline"] - out["exclusions"]["below_threshold"]

    itt = pt.lazy().filter(pl.col("threshold_met"))
    comp = pl.col("completer")
    aggs: list[pl.Expr] = []
    for s in SUBSCALES:
        for tp in p.assessments:
            aggs += _mom(pl.col(f"{s}_{tp}").filter(comp), f"score|{s}_{tp}")
            if tp != p.first:
                aggs += _mom((pl.col(f"{s}_{tp}") - pl.col(f"{s}_{p.first}")).filter(comp), f"change|{s}_{tp}")
        aggs += _mom((pl.col(f"{s}_{p.last}") - pl.col(f"{s}_{p.assessments[-2]}")).filter(comp), f"plateau|{s}")
        aggs.append((comp & pl.col(f"response_{s}")).sum().alias(f"resp|{s}"))
    for k in (1, 2, 3):
        cond = pl.col("responses") >= k if k < 3 else pl.col("responses") == 3
        aggs.append((comp & cond).sum().alias(f"respn|{k}"))
    for tp in p.assessments:
        aggs.append((comp & ~pl.col(f"threshold_{tp}")).sum().alias(f"below|{tp}"))
    for k in p.assessments:
        if k > 0:
            se = pl.col(f"side_effects_{k}").filter(comp)
            aggs += [se.sum().alias(f"se|{k}|yes"), se.count().alias(f"se|{k}|n")]
    aggs += [pl.col("sae_count").filter(comp).sum().alias("sae|e"), pl.col("sessions_total").filter(comp).sum().alias("sae|s")]
    variables = {"age": pl.col("age"), **{s: pl.col(f"{s}_{p.first}") for s in SUBSCALES}, "phq9": pl.col(f"phq9_{p.first}")}
    binaries = {
        "female": pl.col("female"),
        "subcutaneous": pl.when(pl.col("route") == "subcutaneous").then(1).when(pl.col("route") == "sublingual").then(0).otherwise(None),
    }
    for group, where in (("completers", comp), ("non_completers", ~comp)):
        for v, e in variables.items():
            aggs += _mom(e.filter(where), f"acont|{group}|{v}")
        for v, e in binaries.items():
            aggs += [e.filter(where).sum().alias(f"abin|{group}|{v}|yes"), e.filter(where).count().alias(f"abin|{group}|{v}|n")]
    for j in range(p.sessions + 1):
        aggs.append((pl.col("sessions_delivered") >= j).sum().alias(f"reach|{j}"))
    row = {k: _int(v) for k, v in itt.select(aggs).collect().row(0, named=True).items()}

    def mom(name: str) -> list[int]:
        return [row[f"{name}|n"], row[f"{name}|s"], row[f"{name}|ss"]]

    out["scores"] = {f"{s}_{tp}": mom(f"score|{s}_{tp}") for s in SUBSCALES for tp in p.assessments}
    out["changes"] = {f"{s}_{tp}": mom(f"change|{s}_{tp}") for s in SUBSCALES for tp in p.assessments if tp != p.first}
    out["plateau"] = {s: mom(f"plateau|{s}") for s in SUBSCALES}
    out["responders"] = {s: row[f"resp|{s}"] for s in SUBSCALES}
    out["responder_counts"] = {str(k): row[f"respn|{k}"] for k in (1, 2, 3)}
    out["below_threshold"] = {str(tp): row[f"below|{tp}"] for tp in p.assessments}
    out["side_effects"] = {str(k): [row[f"se|{k}|yes"], row[f"se|{k}|n"]] for k in p.assessments if k > 0}
    out["sae"] = [row["sae|e"], row["sae|s"]]

    cut = profile_cutoffs({s: out["scores"][f"{s}_{p.first}"] for s in SUBSCALES})
    out["cutoffs"] = cut

    def profile(tp: int) -> pl.Expr:
        e = pl.col(f"exhaustion_{tp}") >= cut["exhaustion"]
        c = pl.col(f"cynicism_{tp}") >= cut["cynicism"]
        pe = pl.col(f"professional_efficacy_{tp}") <= cut["professional_efficacy"]
        return (
            pl.when(e & c).then(pl.lit("burnout")).when(e).then(pl.lit("overextended"))
            .when(c).then(pl.lit("disengaged")).when(pe).then(pl.lit("ineffective")).otherwise(pl.lit("engaged"))
        )

    keys = [profile(tp).alias(f"p{tp}") for tp in p.assessments] + [pl.col(f"response_{s}") for s in SUBSCALES]
    rows = pt.lazy().filter(comp).group_by(keys).len().collect().rows()
    fold_profile_rows(rows, tuple(p.assessments), out)

    out["subgroups"] = {v: {} for v in p.subgroups}
    completion: dict[str, dict[str, list[int]]] = {v: {} for v in p.subgroups}
    sub_aggs = [
        comp.sum().alias("n"),
        (comp & (pl.col("responses") >= 1)).sum().alias("at_least_1"),
        *((comp & pl.col(f"response_{s}")).sum().alias(s) for s in SUBSCALES),
        pl.len().alias("itt"),
    ]
    frames = [itt.group_by(pl.col(v).cast(pl.String).alias("level")).agg(sub_aggs) for v in p.subgroups]
    for v, df in zip(p.subgroups, pl.collect_all(frames), strict=True):
        for r in df.to_dicts():
            level = str(r["level"])
            if r["n"]:
                out["subgroups"][v][level] = {"n": r["n"], "at_least_1": r["at_least_1"], **{s: r[s] for s in SUBSCALES}}
            completion[v][level] = [r["n"], r["itt"]]
    out["attrition"] = {
        "continuous": {g: {v: mom(f"acont|{g}|{v}") for v in variables} for g in ("completers", "non_completers")},
        "binary": {g: {v: [row[f"abin|{g}|{v}|yes"], row[f"abin|{g}|{v}|n"]] for v in binaries} for g in ("completers", "non_completers")},
        "reach": {str(j): row[f"reach|{j}"] for j in range(p.sessions + 1)},
        "completion": completion,
    }
    return out


if __name__ == "__main__":
    cli_main(run)
