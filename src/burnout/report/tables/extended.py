"""The report's tables of attrition and the random-intercept model: completion by subgroup, reach, the mixed model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from burnout.report.format import Ctx, fmt_prop, get, subgroup_label
from burnout.report.labels import NDASH, SUBSCALE_LABELS, SUBSCALES, VARIABLE_LABELS
from burnout.report.primary import threshold_words
from burnout.report.tables.cells import mean_ci, n_beside, n_or_mark, prop_columns, signed_ci
from burnout.report.tables.model import PROP_CSV, Column, Record, Table, _prop_raw

__all__ = ["_completion", "_mixed", "_reach"]


def _completion(ctx: Ctx) -> Table | None:
    cbs = get(ctx.results, "attrition", "completion_by_subgroup")
    if not cbs:
        return None
    t = Table(
        key="completion_by_subgroup",
        title="Completion by subgroup among patients who met the threshold",
        columns=[
            Column(
                "level",
                "Level",
                "left",
                raw=("variable", "level"),
                fmt=lambda r: subgroup_label(
                    ctx.results, r["variable"], r["level"]
                ),  # a merged level says what it holds
            ),
            *prop_columns("Completers/met threshold"),
        ],
        csv_columns=["variable", "level", *PROP_CSV],
        group="variable",
        group_raw=("variable",),
        group_fmt=lambda r: VARIABLE_LABELS.get(r["variable"], r["variable"].replace("_", " ").capitalize()),
        stub="level",
    )
    for var, levels in cbs.items():
        if isinstance(levels, Mapping):
            for level, p in levels.items():
                if isinstance(p, Mapping):
                    t.add({"variable": var, "level": level} | _prop_raw(p, ctx))
    if not t.entries:
        return None
    overall = get(ctx.results, "flow", "completion")
    t.notes.append(
        "Completion: completers (every session and every assessment) among the patients of the level who met the "
        f"{threshold_words(ctx.results)} at baseline; overall {fmt_prop(overall, ctx)}. 95% Wilson intervals."
    )
    return t


def _reach(ctx: Ctx) -> Table | None:
    reach = get(ctx.results, "attrition", "reach")
    if not reach:
        return None
    t = Table(
        key="reach",
        title="Patients who attended at least each number of sessions",
        columns=[],
        csv_columns=["sessions_at_least", *PROP_CSV],
        html=False,  # shown as the figure "How far patients got"
    )
    for j, p in sorted(reach.items(), key=lambda kv: int(kv[0])):
        t.add({"sessions_at_least": j} | _prop_raw(p, ctx), shown=False)
    return t


_COMPLETERS = ("completers_mean", "completers_ci_low", "completers_ci_high")
_MODEL = ("model_mean", "model_ci_low", "model_ci_high")
_MODEL_CHANGE = ("model_change", "model_change_ci_low", "model_change_ci_high")


def _mixed(ctx: Ctx) -> Table | None:
    mm = get(ctx.results, "itt", "mixed_model")
    if not mm:
        return None
    model = "Mixed model"
    t = Table(
        key="itt_mixed_model",
        title=(
            "Mean scores at each assessment: completers and the random-intercept model (a sensitivity analysis) "
            "of everyone who met the threshold"
        ),
        columns=[
            Column("tp", "Assessment", "left", raw=("timepoint",), fmt=lambda r: ctx.tp(r["timepoint"])),
            Column(
                "completers",
                "Mean (95% CI)",
                spanner=f"Completers (n = {ctx.flow_count('completers')})",
                raw=_COMPLETERS,
                fmt=mean_ci(*_COMPLETERS),
            ),
            Column("n", "Assessed, n", spanner=model, raw=("model_n", "model_mean"), fmt=_model_n(ctx)),
            Column("model", "Mean (95% CI)", spanner=model, raw=_MODEL, fmt=mean_ci(*_MODEL)),
            Column(
                "change",
                "Change from baseline (95% CI)",
                spanner=model,
                raw=_MODEL_CHANGE,
                fmt=signed_ci(*_MODEL_CHANGE),
            ),
        ],
        csv_columns=["subscale", "timepoint", *_COMPLETERS, "model_n", *_MODEL, *_MODEL_CHANGE],
        group="subscale",
        group_fmt=lambda r: SUBSCALE_LABELS[r["subscale"]],
        group_raw=("subscale",),
        stub="tp",
    )
    for s in SUBSCALES:
        for tp in ctx.timepoints:
            m, c = get(mm, s, "timepoints", tp), get(ctx.results, "subscales", s, "timepoints", tp)
            if m or c:
                t.add({"subscale": s, "timepoint": tp} | _mixed_record(ctx, m or {}, c or {}))
    if not t.entries:
        return None
    t.notes.append(
        "Assessed: patients who met the threshold with a score at that assessment; the model uses all of them. "
        "Model-based means and changes with 95% Wald intervals (missing at random; see the model's assumptions)."
    )
    return t


def _mixed_record(ctx: Ctx, m: Mapping[str, Any], c: Mapping[str, Any]) -> dict[str, Any]:
    """The completers' mean and the model's n, mean and change at one assessment, unrounded."""
    mci, cci, chci = (m.get("ci") or [None, None], c.get("ci") or [None, None], m.get("change_ci") or [None, None])
    return (
        {"completers_mean": c.get("mean"), "completers_ci_low": cci[0], "completers_ci_high": cci[1]}
        | {"model_n": n_or_mark(ctx, m["n"], statistic=m.get("mean")) if "n" in m else None}
        | {"model_mean": m.get("mean"), "model_ci_low": mci[0], "model_ci_high": mci[1]}
        | {"model_change": m.get("change"), "model_change_ci_low": chci[0], "model_change_ci_high": chci[1]}
    )


def _model_n(ctx: Ctx) -> Callable[[Record], str]:
    """The model's n at an assessment, or a dash when the tree has none (an absent n is None in the record)."""
    beside = n_beside(ctx, "model_n", "model_mean")
    return lambda r: NDASH if r.get("model_n") is None else beside(r)
