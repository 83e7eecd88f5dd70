"""The relational work of ``burnout analyze``, hand-written in pandas (numpy-backed columns).

Same steps and results as bench_sql.py. numpy has no 128-bit integers, so a sum of
squares is taken exactly by splitting each value x = hi * 2**16 + lo (every partial
sum then fits int64) and recombining in Python integers.

Usage: python bench_pandas.py COHORT_DIR [OUT.json]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench_common import (
    DIRECTION,
    ITEMS,
    PHQ9_SCALE,
    PLAN,
    PROFILES,
    REASONS,
    SCALE,
    SUBSCALES,
    cli_main,
    pattern_key,
    profile_cutoffs,
)


def _score(frame: pd.DataFrame, items: list[str], ok_min: int, unit: int) -> pd.Series:
    block = frame[items]
    n = block.notna().sum(axis=1).to_numpy()
    total = block.fillna(0).to_numpy(dtype=np.int64).sum(axis=1)
    ok = (n >= ok_min) & (n >= 1)
    out = np.zeros(len(frame), dtype=np.int64)
    out[ok] = total[ok] * unit // n[ok]
    return pd.Series(out, index=frame.index, dtype="Int64").where(ok)


def patient_table(folder: Path) -> pd.DataFrame:
    p = PLAN
    mbi = pd.read_parquet(folder / "mbi_gs.parquet")
    mbi = mbi[mbi["after_session"].isin(p.assessments)]
    scored = pd.DataFrame({"patient_id": mbi["patient_id"], "after_session": mbi["after_session"]})
    for s, items in ITEMS.items():
        scored[s] = _score(mbi, [f"item_{i}" for i in items], len(items) - p.max_missing, SCALE)
    wide = scored.pivot_table(index="patient_id", columns="after_session", values=list(SUBSCALES), aggfunc="max")
    wide.columns = [f"{s}_{t}" for s, t in wide.columns]
    for s in SUBSCALES:
        for t in p.assessments:
            if f"{s}_{t}" not in wide:
                wide[f"{s}_{t}"] = pd.array([pd.NA] * len(wide), dtype="Int64")

    sess = pd.read_parquet(folder / "sessions.parquet")
    g = sess.groupby("patient_id", sort=False)
    sw = pd.DataFrame(
        {
            "sessions_delivered": sess["session"].between(1, p.sessions).groupby(sess["patient_id"], sort=False).sum(),
            "sessions_total": g.size(),
            "sae_count": sess["serious_adverse_event"].fillna(False).astype(np.int64).groupby(sess["patient_id"], sort=False).sum(),
        }
    )
    se = sess[sess["session"].isin([k for k in p.assessments if k > 0]) & sess["side_effects"].notna()]
    se_wide = se.assign(v=se["side_effects"].astype(np.int64)).pivot_table(
        index="patient_id", columns="session", values="v", aggfunc="max"
    )
    for k in p.assessments:
        if k > 0:
            sw[f"side_effects_{k}"] = se_wide[k] if k in se_wide else np.nan

    phq = pd.read_parquet(folder / "phq9.parquet")
    phq = phq[phq["after_session"].isin(p.assessments)]
    phq = pd.DataFrame(
        {
            "patient_id": phq["patient_id"],
            "after_session": phq["after_session"],
            "phq9": _score(phq, [f"item_{i}" for i in range(1, 10)], 7, 9 * PHQ9_SCALE),
        }
    )
    pw = phq.pivot_table(index="patient_id", columns="after_session", values="phq9", aggfunc="max")
    pw.columns = [f"phq9_{t}" for t in pw.columns]

    pts = pd.read_parquet(folder / "patients.parquet")
    for c in ("sex", "route", "pathway"):
        v = pts[c].str.strip().str.lower()
        pts[c] = v.where(v.notna() & (v != ""), "unknown")
    age = pts["age"]
    band = pd.Series("unknown", index=pts.index, dtype=object)
    for label, lo, hi in p.age_bands:
        cond = (age >= lo) if hi is None else (age >= lo) & (age < hi)
        band[cond.fillna(False).to_numpy(dtype=bool)] = label
    pts["age_band"] = band
    t = pts.set_index("patient_id").join(wide).join(sw).join(pw)
    for c in ("sessions_delivered", "sessions_total", "sae_count"):
        t[c] = t[c].fillna(0).astype(np.int64)

    def thr(tp: int) -> pd.Series:
        e = t[f"exhaustion_{tp}"] >= p.e_min
        c = t[f"cynicism_{tp}"] >= p.c_min
        pe = t[f"professional_efficacy_{tp}"] <= p.pe_max
        return e & (c | pe)  # nullable booleans: Kleene logic, as SQL

    thr0 = thr(p.first)
    all_scored = np.logical_and.reduce([t[f"{s}_{tp}"].notna().to_numpy() for s in SUBSCALES for tp in p.assessments])
    t["baseline_scored"] = thr0.notna().to_numpy()
    t["threshold_met"] = thr0.fillna(False).to_numpy(dtype=bool)
    t["all_assessments"] = all_scored
    all_sessions = (t["sessions_delivered"] >= p.sessions).to_numpy()
    t["completer"] = t["threshold_met"].to_numpy() & all_sessions & all_scored
    excl = np.full(len(t), None, dtype=object)
    for reason, cond in reversed(
        [
            ("no_baseline", ~t["baseline_scored"].to_numpy()),
            ("below_threshold", ~t["threshold_met"].to_numpy()),
            ("missed_sessions", ~all_sessions),
            ("missed_assessment", ~all_scored),
        ]
    ):
        excl[cond] = reason
    t["exclusion"] = excl
    for s in SUBSCALES:
        change = (t[f"{s}_{p.last}"] - t[f"{s}_{p.first}"]) * DIRECTION[s]
        t[f"response_{s}"] = (change >= p.min_change).fillna(False).to_numpy(dtype=bool)
    t["responses"] = sum(t[f"response_{s}"].astype(np.int64) for s in SUBSCALES)
    for tp in p.assessments:
        t[f"threshold_{tp}"] = thr(tp)
    t["female"] = pd.Series(np.where(t["sex"] == "female", 1, 0), index=t.index, dtype="Int64").where(t["sex"].isin(["female", "male"]))
    return t


def _moments(x: pd.Series) -> list[int]:
    v = x.dropna().to_numpy(dtype=np.int64)
    hi, lo = v >> 16, v & 0xFFFF
    ss = (int((hi * hi).sum()) << 32) + (int((hi * lo).sum()) << 17) + int((lo * lo).sum())
    return [len(v), int(v.sum()), ss]


def run(folder: Path) -> dict[str, Any]:
    p = PLAN
    pt = patient_table(folder)
    out: dict[str, Any] = {}
    flow = pt["exclusion"].value_counts(dropna=False)
    flow = {(None if (k is None or k != k) else k): int(v) for k, v in flow.items()}
    out["patients"] = sum(flow.values())
    out["exclusions"] = {r: flow.get(r, 0) for r in REASONS}
    out["completers"] = flow.get(None, 0)
    out["threshold_met"] = out["patients"] - out["exclusions"]["no_baseline"] - out["exclusions"]["below_threshold"]

    itt = pt[pt["threshold_met"]]
    comp = itt[itt["completer"]]
    non = itt[~itt["completer"]]
    out["scores"] = {f"{s}_{t}": _moments(comp[f"{s}_{t}"]) for s in SUBSCALES for t in p.assessments}
    out["changes"] = {
        f"{s}_{t}": _moments(comp[f"{s}_{t}"] - comp[f"{s}_{p.first}"]) for s in SUBSCALES for t in p.assessments if t != p.first
    }
    out["plateau"] = {s: _moments(comp[f"{s}_{p.last}"] - comp[f"{s}_{p.assessments[-2]}"]) for s in SUBSCALES}
    out["responders"] = {s: int(comp[f"response_{s}"].sum()) for s in SUBSCALES}
    out["responder_counts"] = {
        "1": int((comp["responses"] >= 1).sum()), "2": int((comp["responses"] >= 2).sum()), "3": int((comp["responses"] == 3).sum())
    }
    out["below_threshold"] = {str(t): int((~comp[f"threshold_{t}"]).fillna(False).sum()) for t in p.assessments}
    out["side_effects"] = {
        str(k): [int(comp[f"side_effects_{k}"].sum()), int(comp[f"side_effects_{k}"].notna().sum())] for k in p.assessments if k > 0
    }
    out["sae"] = [int(comp["sae_count"].sum()), int(comp["sessions_total"].sum())]

    cut = profile_cutoffs({s: out["scores"][f"{s}_{p.first}"] for s in SUBSCALES})
    out["cutoffs"] = cut
    prof = {}
    for t in p.assessments:
        e = (comp[f"exhaustion_{t}"] >= cut["exhaustion"]).fillna(False).to_numpy(dtype=bool)
        c = (comp[f"cynicism_{t}"] >= cut["cynicism"]).fillna(False).to_numpy(dtype=bool)
        pe = (comp[f"professional_efficacy_{t}"] <= cut["professional_efficacy"]).fillna(False).to_numpy(dtype=bool)
        prof[t] = np.select([e & c, e, c, pe], ["burnout", "overextended", "disengaged", "ineffective"], "engaged")
    out["profiles"] = {str(t): {k: int((prof[t] == k).sum()) for k in PROFILES} for t in p.assessments}
    trans = pd.Series(1, index=pd.MultiIndex.from_arrays([prof[p.first], prof[p.last]])).groupby(level=[0, 1]).sum()
    out["transitions"] = {f"{a}>{b}": int(n) for (a, b), n in trans.items()}
    pats = comp.groupby([f"response_{s}" for s in SUBSCALES]).size()
    out["patterns"] = {pattern_key(tuple(bool(x) for x in k)): int(n) for k, n in pats.items()}

    out["subgroups"] = {}
    completion: dict[str, dict[str, list[int]]] = {}
    for v in p.subgroups:
        level = itt[v].astype(str)
        g = pd.DataFrame(
            {
                "n": itt["completer"].astype(np.int64),
                "at_least_1": (itt["completer"] & (itt["responses"] >= 1)).astype(np.int64),
                **{s: (itt["completer"] & itt[f"response_{s}"]).astype(np.int64) for s in SUBSCALES},
                "itt": 1,
            }
        ).groupby(level.to_numpy()).sum()
        out["subgroups"][v] = {
            str(lvl): {k: int(r[k]) for k in ("n", "at_least_1", *SUBSCALES)} for lvl, r in g.iterrows() if r["n"]
        }
        completion[v] = {str(lvl): [int(r["n"]), int(r["itt"])] for lvl, r in g.iterrows()}

    def subcut(d: pd.DataFrame) -> pd.Series:
        return pd.Series(np.where(d["route"] == "subcutaneous", 1, 0), index=d.index).where(d["route"].isin(["subcutaneous", "sublingual"]))

    variables = {"age": "age", **{s: f"{s}_{p.first}" for s in SUBSCALES}, "phq9": f"phq9_{p.first}"}
    out["attrition"] = {
        "continuous": {g: {v: _moments(d[c]) for v, c in variables.items()} for g, d in (("completers", comp), ("non_completers", non))},
        "binary": {
            g: {
                "female": [int(d["female"].sum()), int(d["female"].notna().sum())],
                "subcutaneous": [int(subcut(d).sum()), int(subcut(d).notna().sum())],
            }
            for g, d in (("completers", comp), ("non_completers", non))
        },
        "reach": {str(j): int((itt["sessions_delivered"] >= j).sum()) for j in range(p.sessions + 1)},
        "completion": completion,
    }
    return out


if __name__ == "__main__":
    cli_main(run)
