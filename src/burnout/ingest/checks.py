"""Validate stage: every data-contract rule as engine queries; typed tables out. (checks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from burnout.errors import Problem
from burnout.ingest.loaded import MAX_PER_RULE
from burnout.ingest.rules import _count, _file_problem, _plural, _TableSpec
from burnout.schema import instrument_tables

_WINDOWED_WARNINGS = frozenset({"order_suspect"})


# --------------------------------------------------------------------------- running


def _run_checks(
    spec: _TableSpec, warn_flags: Mapping[str, ir.BooleanValue], *, extra: Mapping[str, ir.Scalar] | None = None
) -> tuple[list[Problem], list[Problem], int, dict[str, Any]]:
    """Count every rule and warning in two scans; fetch the first rows only of rules that fail.

    Rules and warnings that compare neighbouring rows (window functions) are counted in
    a query over just the columns they read: a window carries every column of its
    query through the sort. Typed cells are screened by their column's min and max.
    """
    counts = _counts(spec, warn_flags, extra)
    counts |= _warning_details(spec, warn_flags, counts)
    n_rows = int(counts["_rows"] or 0)
    warn = {k: v for k, v in counts.items() if not k.startswith("_")}
    failing = _failing(spec, counts)
    if not failing:
        return [], [], n_rows, warn
    return _first_problems(spec, failing), _summaries(spec, failing), n_rows, warn


def _counts(
    spec: _TableSpec, warn_flags: Mapping[str, ir.BooleanValue], extra: Mapping[str, ir.Scalar] | None
) -> dict[str, Any]:
    """The rows, each rule's bad cells (or its column's min and max) and each warning's
    rows: a scan without windows, then one with them."""
    t = spec.t
    counts: dict[str, Any] = {}
    for windowed in (False, True):
        checks = {i: c for i, c in enumerate(spec.checks) if c.windowed == windowed}
        warns = {k: f for k, f in warn_flags.items() if (k in _WINDOWED_WARNINGS) == windowed}
        if windowed and not checks and not warns:
            continue
        flags = t.mutate(
            **{f"_b{i}": c.bad.fill_null(False) for i, c in checks.items()},
            **{f"_w_{k}": f for k, f in warns.items()},
        )
        metrics: dict[str, ir.Scalar] = {} if windowed else {"_rows": flags.count(), **(extra or {})}
        for i, c in checks.items():
            if c.screen is None:
                metrics[f"_n{i}"] = _count(flags[f"_b{i}"]).sum()
            else:  # a min and a max cost a fraction of a count of bad cells
                metrics[f"_lo{i}"] = c.screen[0].min()
                metrics[f"_hi{i}"] = c.screen[0].max()
        for k in warns:
            metrics[f"{k}_rows"] = _count(flags[f"_w_{k}"]).sum()
        counts |= flags.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    return counts


def _warning_details(
    spec: _TableSpec, warn_flags: Mapping[str, ir.BooleanValue], counts: Mapping[str, Any]
) -> dict[str, Any]:
    """Patients and first line of each warning that fired, in one query run only then.

    Counting distinct patients costs a hash aggregate over every id (about half of a
    table's counting scan at 1M patients), so the scan counts rows only: valid data
    almost never fires a warning.
    """
    fired = [k for k in warn_flags if counts.get(f"{k}_rows")]
    if not fired:
        return {}
    flags = spec.t.mutate(**{f"_w_{k}": warn_flags[k] for k in fired})
    metrics: dict[str, ir.Scalar] = {}
    for k in fired:
        f = flags[f"_w_{k}"]
        metrics[f"{k}_patients"] = flags.patient_id.nunique(where=f)
        metrics[f"{k}_line"] = flags._line.min(where=f)
    row: dict[str, Any] = flags.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    return row


def _failing(spec: _TableSpec, counts: Mapping[str, Any]) -> dict[int, int]:
    """Rule index -> bad cells, for the rules that fail; screened rules counted exactly when their range is left."""
    failing = {int(k[2:]): int(v) for k, v in counts.items() if k.startswith("_n") and v}
    outside = [i for i, c in enumerate(spec.checks) if c.screen is not None and _outside(counts, i, c.screen)]
    if outside:
        exact = spec.t.aggregate(**{f"_n{i}": _count(spec.checks[i].bad.fill_null(False)).sum() for i in outside})
        failing |= {int(k[2:]): int(v) for k, v in exact.to_pyarrow().to_pylist()[0].items() if v}
    return failing


def _first_problems(spec: _TableSpec, failing: Mapping[int, int]) -> list[Problem]:
    """A problem for each of the first MAX_PER_RULE bad rows of each failing rule, with the cell as written."""
    t = spec.t
    branches = []
    for i in sorted(failing):
        c = spec.checks[i]
        m = t.mutate(_b=c.bad.fill_null(False), _d1=c.d1.cast("int64"), _d2=c.d2.cast("int64"))
        m = m.filter(m._b).order_by(m._line).limit(MAX_PER_RULE)
        branches.append(m.select(_i=ibis.literal(i, "int64"), _line=m._line, _pid=m.patient_id, _d1=m._d1, _d2=m._d2))
    fetched = ibis.union(*branches, distinct=False).to_pyarrow().to_pylist()
    # the cells as written, for the few lines reported
    lines = sorted({r["_line"] for r in fetched})
    wanted = sorted({c.column for c in spec.checks if c.column in spec.present})
    text = spec.text
    written = {
        r["_line"]: r for r in text.filter(text._line.isin(lines)).select("_line", *wanted).to_pyarrow().to_pylist()
    }
    found: list[Problem] = []
    for r in fetched:
        c = spec.checks[r["_i"]]
        allowed = c.allowed if isinstance(c.allowed, str) else c.allowed(r["_d1"], r["_d2"])
        value = written.get(r["_line"], {}).get(c.column) if c.column else None
        found.append(
            Problem(
                file=spec.display,
                line=r["_line"],
                patient_id=r["_pid"],
                column=c.column,
                value="" if value is None else value,
                allowed=allowed,
            )
        )
    return found


def _summaries(spec: _TableSpec, failing: Mapping[int, int]) -> list[Problem]:
    """One "... and N more" line per rule with more than MAX_PER_RULE bad rows."""
    summaries: list[Problem] = []
    for i, n in sorted(failing.items()):
        if n > MAX_PER_RULE:
            c = spec.checks[i]
            rule = c.allowed if isinstance(c.allowed, str) else "the same rule"
            summaries.append(
                _file_problem(
                    spec.display,
                    f"... and {n - MAX_PER_RULE:,} more {spec.where}s like this ({n:,} in all; allowed: {rule})",
                    column=c.column,
                )
            )
    return summaries


def _outside(counts: Mapping[str, Any], i: int, screen: tuple[ir.Value, int | None, int | None]) -> bool:
    """The column's min or max (``_lo<i>``, ``_hi<i>``) lies outside the screen's range."""
    _expr, lo, hi = screen
    low, high = counts[f"_lo{i}"], counts[f"_hi{i}"]
    return (lo is not None and low is not None and low < lo) or (hi is not None and high is not None and high > hi)


def _latest_metric(spec: _TableSpec, sched: tuple[int, ...]) -> dict[str, ir.Scalar]:
    """``latest``: the highest session number (sessions) or scheduled assessment (mbi_gs,
    phq9), counted in the table's one aggregate query."""
    t = spec.t
    if spec.name == "sessions" and "session" in spec.present:
        return {"latest": t.session.max()}
    if (spec.name == "mbi_gs" or spec.name in instrument_tables()) and "after_session" in spec.present:
        return {"latest": t.after_session.max(where=t.after_session.isin(sched))}
    return {}


def _unrecorded_sessions(
    specs: Mapping[str, _TableSpec], latest: Mapping[str, int | None], sched: tuple[int, ...]
) -> list[str]:
    """Warnings for assessments after sessions that sessions has no row for (e.g. an empty or
    truncated export). Screened by the maxima; patients are counted only when it fires."""
    if "sessions" not in specs or "session" not in specs["sessions"].present:
        return []
    recorded = latest.get("sessions") or 0
    out: list[str] = []
    for name in ("mbi_gs", *instrument_tables()):
        assessed = latest.get(name)
        if name not in specs or assessed is None or assessed <= recorded:
            continue
        t = specs[name].t
        after = [a for a in sched if a > recorded]
        n = t.filter(t.after_session.isin(after)).patient_id.nunique().to_pyarrow().as_py()
        what = "no session at all" if recorded == 0 else f"no session after session {recorded}"
        sessions = ", ".join(map(str, after[:-1])) + (" or " if len(after) > 1 else "") + str(after[-1])
        out.append(
            f"{specs[name].display}: {_plural(n, 'patient')} {'has' if n == 1 else 'have'} assessments after session "
            f"{sessions}, but {specs['sessions'].display} records {what}; "
            "check that it is complete (treatment exposure and completion are counted from it)"
        )
    return out


def _warnings(spec: _TableSpec, m: Mapping[str, Any], sched: tuple[int, ...], n_sessions: int) -> list[str]:
    """Warning texts from the counts of :func:`_warning_flags` (one small query for unscheduled values)."""
    out: list[str] = []
    if m.get("unscheduled_rows"):
        after = spec.t.after_session
        values = (
            spec.t.filter(after.notnull() & ~after.isin(sched))
            .select(_a=after)
            .distinct()
            .order_by("_a")
            .limit(11)
            .to_pyarrow()
            .column(0)
            .to_pylist()
        )
        shown = ", ".join(map(str, values[:10])) + (", ..." if len(values) > 10 else "")
        out.append(
            f"{spec.display}: {_plural(m['unscheduled_rows'], 'row')} at after_session {shown}, not in the "
            f"schedule ({', '.join(map(str, sched))}); they are not analysed"
        )
    if m.get("beyond_rows"):
        n = m["beyond_rows"]
        out.append(
            f"{spec.display}: {_plural(n, 'row')} for {_plural(m['beyond_patients'], 'patient')} "
            f"{'has' if n == 1 else 'have'} session > {n_sessions} (beyond the {n_sessions} scheduled sessions)"
        )
    if m.get("order_rows"):
        date, key = ("held_on", "session") if spec.name == "sessions" else ("completed_on", "after_session")
        out.append(
            f"{spec.display}: {date} goes back in time as {key} increases for "
            f"{_plural(m['order_patients'], 'patient')} ({_plural(m['order_rows'], 'row')} dated before an earlier "
            f"{'session' if spec.name == 'sessions' else 'assessment'}; the first on {spec.where} "
            f"{m['order_line']}); check the dates"
        )
    return out
