"""The "Beyond completers" section's text: what the side-by-side table shows, how its estimates
were made (imputation, estimand, mixed models) and where attrition is compared at baseline.

The page (`burnout.report.html`) places and numbers the tables and figures; this module
writes the words around them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burnout.report.format import Ctx, esc, fmt_num, fmt_pct, get, join_words, literal
from burnout.report.labels import SUBSCALE_LABELS
from burnout.report.primary import is_mbi_primary
from burnout.results import TABLE1_LABELS

__all__ = ["beyond_completers_html"]


def beyond_completers_html(
    ctx: Ctx, *, side_by_side: str, model_tables: str, attrition: str, table1_number: int | None
) -> str:
    """The section's body ("" when it has nothing to show).

    ``side_by_side``, ``model_tables`` and ``attrition`` are the rendered table and figure
    HTML ("" when absent); ``table1_number`` is Table 1's number when the page shows it.
    """
    out = _side_by_side_intro(ctx) + side_by_side if side_by_side else ""
    how = _estimation_methods(ctx.results.get("itt") or {})
    if how:
        out += (
            '<h3 id="beyond-methods">How the estimates beyond completers were made</h3><div class="methods">'
            + "".join(f"<p>{h}</p>" for h in how)
            + "</div>"
        )
    out += model_tables
    pointer = _table1_pointer(ctx.results, table1_number)
    if attrition or pointer:
        out += '<h3 id="attrition">Attrition: who completed and how far patients got</h3>'
        out += (f"<p>{pointer}</p>" if pointer else "") + attrition
    return out


def _side_by_side_intro(ctx: Ctx) -> str:
    completion = get(ctx.results, "flow", "completion", "rate")
    share = f" ({esc(fmt_pct(completion))})" if completion is not None else ""
    return (
        f"<p>The estimates above are among the {esc(ctx.flow_count('completers'))} completers{share} of the "
        f"{esc(ctx.flow_count('threshold_met'))} patients who met the threshold. Here the same outcomes are "
        "estimated for everyone who met it, under three assumptions about the patients who did not complete: that "
        "none of them responded (worst case), that their missing scores resemble those of similar patients who were "
        "assessed (multiple imputation), and that every available assessment informs the mean (mixed models: the "
        "MMRM, primary, and the random-intercept model as a sensitivity analysis).</p>"
    )


def _estimation_methods(itt: Mapping[str, Any]) -> list[str]:
    """One paragraph per method beyond completers, in the order the tables come."""
    return _imputation_methods(itt) + _mmrm_methods(itt) + _random_intercept_methods(itt)


def _imputation_methods(itt: Mapping[str, Any]) -> list[str]:
    """Multiple imputation: its method, its estimand (ICH E9(R1)) and any problem it met."""
    how = []
    method = get(itt, "multiple_imputation", "method")
    if method:
        how.append(f"<strong>Multiple imputation.</strong> {esc(_sentence(method))}")
    estimand = get(itt, "multiple_imputation", "estimand") or {}
    if estimand:
        events = "; ".join(f"{e.get('event')}: {e.get('strategy')}" for e in estimand.get("intercurrent_events") or [])
        how.append(
            "<strong>Estimand (ICH E9(R1)).</strong> "
            + esc(
                f"Population: {estimand.get('population')}. Variable: {estimand.get('variable')}. "
                f"Intercurrent events: {events}. Summary: {estimand.get('summary_measure')}. "
                f"{estimand.get('missing_data_assumption')}"
            )
        )
    problem = get(itt, "multiple_imputation", "problem")
    if problem:
        how.append(f"<strong>Imputation problem.</strong> {esc(_sentence(str(problem)))}")
    return how


def _mmrm_methods(itt: Mapping[str, Any]) -> list[str]:
    """The MMRM's assumptions, any subscale it could not fit, and the tipping-point method."""
    how = []
    assumptions = get(itt, "mmrm", "assumptions")
    if assumptions:
        how.append(f"<strong>MMRM (primary) and its assumptions.</strong> {esc(_sentence(assumptions))}")
    for s in SUBSCALE_LABELS:
        problem = get(itt, "mmrm", s, "problem")
        if problem:
            how.append(f"<strong>{esc(SUBSCALE_LABELS[s])}: MMRM not fitted.</strong> {esc(_sentence(str(problem)))}")
    method = get(itt, "mmrm_tipping", "method")
    if method:
        how.append(f"<strong>Tipping point (missing not at random).</strong> {esc(_sentence(method))}")
    return how


def _random_intercept_methods(itt: Mapping[str, Any]) -> list[str]:
    """The random-intercept model's assumptions, any subscale it could not fit, and the data it used."""
    how = []
    assumptions = get(itt, "mixed_model", "assumptions")
    if assumptions:
        how.append(
            f"<strong>Random-intercept model (sensitivity) and its assumptions.</strong> {esc(_sentence(assumptions))}"
        )
    fits = []
    for s in SUBSCALE_LABELS:
        m = get(itt, "mixed_model", s) or {}
        if m.get("problem"):
            how.append(f"<strong>{esc(SUBSCALE_LABELS[s])}: not fitted.</strong> {esc(_sentence(str(m['problem'])))}")
        elif m.get("observations") is not None and m.get("patients") is not None:
            fits.append(f"{SUBSCALE_LABELS[s]} {m['observations']:,} assessments of {m['patients']:,} patients")
    if fits:
        how.append(f"<strong>Data used by the mixed model.</strong> {esc(join_words(fits))}.")
    return how


def _table1_pointer(r: Mapping[str, Any], table1_number: int | None) -> str:
    """Where completers and non-completers are compared at baseline, and their largest difference."""
    if table1_number is None:
        return ""
    pointer = (
        f'Completers and non-completers are compared at baseline in <a href="#table-baseline_characteristics">'
        f"Table {table1_number}</a> (standardized mean differences of the "
        f"{'subscales' if is_mbi_primary(r) else 'baseline scores'}, age, sex and route)."
    )
    smd = get(r, "attrition", "baseline_smd") or {}
    known = [(k, v) for k, v in smd.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    if known:
        k, v = max(known, key=lambda kv: abs(kv[1]))
        size = "below" if abs(v) < 0.1 else "at or above"
        pointer += (
            f" The largest absolute difference was {esc(fmt_num(abs(v)))} ({esc(_smd_label(r, k))}), {size} the 0.1 "
            "commonly read as a meaningful imbalance."
        )
    return pointer


_SMD_LABELS = SUBSCALE_LABELS | {
    "age": "age",
    "female": "female sex",
    "subcutaneous": "subcutaneous route",
    "phq9": "PHQ-9 total",
}


def _smd_label(r: Mapping[str, Any], key: str) -> str:
    """A Table 1 row in running text; a row whose label is not its usual one had a residual
    merged into its level and says so ("female, other or not recorded")."""
    label = get(r, "attrition", "table1", key, "label")
    if isinstance(label, str) and key in TABLE1_LABELS and label != TABLE1_LABELS[key]:
        return literal(label[:1].lower() + label[1:])
    return _SMD_LABELS.get(key, key)


def _sentence(text: str) -> str:
    """Text from the results tree as one sentence: first letter upper-case, one final full stop."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
