"""Safety over everyone treated: the safety population's counts, collected in the engine.

The reference study counted side effects and serious adverse events among its
completers, so an event that ended treatment (and so made the patient a non-completer)
could never be counted. Safety is counted here over the *safety population*: every
patient with at least one session delivered (ICH E9: everyone exposed to treatment).
Sessions cluster within patients, so the per-patient rate is the primary one; the
per-session rate is kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from burnout.measures._aggregates import as_int as _int
from burnout.measures._aggregates import one_row as _one_row

__all__ = ["SafetyCounts", "collect_safety"]


@dataclass(frozen=True, slots=True)
class SafetyCounts:
    """Exact counts over the safety population (patients with at least one session).

    ``side_effects[t]`` is (reported, asked) at the assessed session t among those with
    a session t whose side-effects question was answered.
    """

    patients: int
    sae_patients: int
    sessions: int
    sae_sessions: int
    side_effects: dict[int, tuple[int, int]]

    def __repr__(self) -> str:
        return (
            f"<SafetyCounts: {self.patients:,} patients with a session, {self.sessions:,} sessions, "
            f"{self.sae_sessions:,} with a serious adverse event>"
        )


def collect_safety(table: ir.Table, assessed: tuple[int, ...]) -> SafetyCounts:
    """One aggregate query over the patient table's safety population.

    Parameters
    ----------
    table
        The materialised patient table (``cohort.build_patient_table``): ``sessions_total``
        (sessions delivered, scheduled or not), ``sae_count`` (sessions with a serious
        adverse event) and ``side_effects_<t>`` (1/0/null = not asked) per assessed session.
    assessed
        The assessed sessions after baseline (the plan's assessments other than 0).
    """
    treated = table.filter(table.sessions_total >= 1)
    aggs: dict[str, ir.Value] = {
        "patients": treated.count(),
        "sae_patients": (treated.sae_count > 0).cast("int64").sum(),
        "sessions": treated.sessions_total.sum(),
        "sae_sessions": treated.sae_count.sum(),
    }
    for t in assessed:
        aggs[f"se_n_{t}"] = treated[f"side_effects_{t}"].count()
        aggs[f"se_yes_{t}"] = treated[f"side_effects_{t}"].sum()
    row = _one_row(treated.aggregate(**aggs))
    return SafetyCounts(
        patients=_int(row["patients"]),
        sae_patients=_int(row["sae_patients"]),
        sessions=_int(row["sessions"]),
        sae_sessions=_int(row["sae_sessions"]),
        side_effects={t: (_int(row[f"se_yes_{t}"]), _int(row[f"se_n_{t}"])) for t in assessed},
    )
