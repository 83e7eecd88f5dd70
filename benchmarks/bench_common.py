"""Shared by the scale benchmark (run.py) and its hand-written references.

- :func:`generate`: a simulated cohort (``burnout.simulate``) written as Parquet in
  chunks of 131,072 patients, so 10M patients fit in a few GiB; the rows equal
  ``simulate_cohort(patients=N, seed=seed)``'s.
- :class:`Plan`: the default analysis plan as the integer constants the references
  use (cut-offs in units of 1/600,000 point, exactly as burnout derives them).
- :func:`from_measures`: burnout's ``Measures`` in the plain form every reference
  returns, so run.py can check that they computed the same thing.

The canonical form (JSON-able, every number an exact integer)::

    patients, completers, threshold_met, exclusions{reason}
    scores{"<subscale>_<t>": [n, sum, sum_sq]}, changes{...}, plateau{subscale}
    responders{subscale}, responder_counts{"1","2","3"}, patterns{"TFT": n}
    below_threshold{t}, cutoffs{subscale}, profiles{t}{profile}, transitions{"a>b"}
    side_effects{k: [yes, n]}, sae [events, sessions]
    subgroups{variable}{level}{n, at_least_1, <subscale>...}
    attrition{continuous{group}{var}: [n, s, ss], binary{group}{var}: [yes, n], reach{j}, completion{var}{level}: [c, n]}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

SUBSCALES = ("exhaustion", "cynicism", "professional_efficacy")
ITEMS = {
    "exhaustion": (1, 2, 3, 4, 6),
    "cynicism": (8, 9, 13, 14, 15),
    "professional_efficacy": (5, 7, 10, 11, 12, 16),
}
DIRECTION = {"exhaustion": -1, "cynicism": -1, "professional_efficacy": 1}
PROFILES = ("burnout", "overextended", "disengaged", "ineffective", "engaged")
REASONS = ("no_baseline", "below_threshold", "missed_sessions", "missed_assessment")
SCALE = 600_000
PHQ9_SCALE = 504


@dataclass(frozen=True)
class Plan:
    """The default plan (burnout's reference study) as integers."""

    assessments: tuple[int, ...] = (0, 2, 4, 6)
    sessions: int = 6
    max_missing: int = 1
    e_min: int = math.ceil(Fraction("4.8") * SCALE)  # E >= 4.8
    c_min: int = math.ceil(Fraction("3.8") * SCALE)  # C >= 3.8
    pe_max: int = math.floor(Fraction("4.3") * SCALE)  # PE <= 4.3
    min_change: int = math.ceil(Fraction("1.0") * SCALE)
    z: tuple[tuple[str, Fraction], ...] = (
        ("exhaustion", Fraction("0.0")),
        ("cynicism", Fraction("0.0")),
        ("professional_efficacy", Fraction("-0.5")),
    )
    age_bands: tuple[tuple[str, int, int | None], ...] = (("18-34", 18, 35), ("35-49", 35, 50), ("50+", 50, None))
    subgroups: tuple[str, ...] = ("age_band", "sex", "route", "pathway")

    @property
    def first(self) -> int:
        return self.assessments[0]

    @property
    def last(self) -> int:
        return self.assessments[-1]


PLAN = Plan()


def profile_cutoffs(baseline: dict[str, list[int]], plan: Plan = PLAN) -> dict[str, int]:
    """Integer cut-offs from the completers' baseline [n, sum, sum_sq] (z-scores), as burnout does.

    mean and sd are floats in points (burnout: ``measures._profile_reference``); the
    raw cut-off mean + z * sd is taken exactly (Fraction of those floats) and turned
    into units with ceil (E, C) or floor (PE).
    """
    out = {}
    for s, z in plan.z:
        n, total, total_sq = baseline[s]
        css = float(Fraction(total_sq) - Fraction(total * total, n))
        mean = total / n / SCALE
        sd = (css / (n - 1)) ** 0.5 / SCALE
        raw = Fraction(mean) + z * Fraction(sd)
        out[s] = math.floor(raw * SCALE) if s == "professional_efficacy" else math.ceil(raw * SCALE)
    return out


def pattern_key(flags: tuple[bool, bool, bool]) -> str:
    return "".join("T" if f else "F" for f in flags)


def from_measures(m: Any) -> dict[str, Any]:
    """burnout's ``Measures`` in the canonical form."""

    def mom(x: Any) -> list[int]:
        return [x.n, x.total, x.total_sq]

    a = m.attrition
    return {
        "patients": m.patients,
        "completers": m.completers,
        "threshold_met": m.threshold_met,
        "exclusions": dict(m.exclusions),
        "scores": {f"{s}_{t}": mom(v) for (s, t), v in m.scores.items()},
        "changes": {f"{s}_{t}": mom(v) for (s, t), v in m.changes.items()},
        "plateau": {s: mom(v) for s, v in m.plateau.items()},
        "responders": dict(m.responders),
        "responder_counts": {str(k): v for k, v in m.responder_counts.items()},
        "patterns": {pattern_key(k): v for k, v in m.response_patterns.items() if v},
        "below_threshold": {str(t): v for t, v in m.below_threshold.items()},
        "cutoffs": {s: getattr(m.profile_cutoffs, s) for s in SUBSCALES},
        "profiles": {str(t): dict(v) for t, v in m.profiles.items()},
        "transitions": {f"{x}>{y}": n for x, row in m.transitions.items() for y, n in row.items() if n},
        "side_effects": {str(k): list(v) for k, v in m.side_effects.items()},
        "sae": list(m.sae),
        "subgroups": {var: {lvl: dict(d) for lvl, d in levels.items()} for var, levels in m.subgroups.items()},
        "attrition": {
            "continuous": {g: {v: mom(x) for v, x in d.items()} for g, d in a.continuous.items()},
            "binary": {g: {v: list(x) for v, x in d.items()} for g, d in a.binary.items()},
            "reach": {str(j): n for j, n in a.reach.items()},
            "completion": {var: {lvl: list(x) for lvl, x in d.items()} for var, d in a.completion_by_subgroup.items()},
        },
    }


def normalise(tree: Any) -> Any:
    """Plain ints, sorted keys, zero counts dropped from patterns/transitions: comparable with ==."""
    if isinstance(tree, dict):
        return {str(k): normalise(v) for k, v in sorted(tree.items(), key=lambda kv: str(kv[0]))}
    if isinstance(tree, list | tuple):
        return [normalise(v) for v in tree]
    if tree is None:
        return 0
    if isinstance(tree, bool):
        return int(tree)
    return int(tree)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths where two canonical trees differ (at most a few listed by the caller)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'first' if k in a else 'second'}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


# --------------------------------------------------------------------------- data


def generate(folder: Path, *, patients: int, seed: int) -> Path:
    """Write the simulated cohort of ``patients`` as Parquet into ``folder``, chunk by chunk.

    Streams the simulator's chunks (``simulate._arrays``/``_tables``, what
    ``simulate_cohort`` concatenates) into Parquet writers, so the rows are those of
    ``simulate_cohort(patients=N, seed=seed)`` but memory stays at one chunk of
    131,072 patients. Skipped when ``folder`` is complete.
    """
    import pyarrow.parquet as pq

    from burnout import simulate as sim

    done_marker = folder / ".complete"
    if done_marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    params = sim.ModelParams()
    writers: dict[str, pq.ParquetWriter] = {}
    start = 0
    try:
        # the simulator's own chunk stream (simulate_cohort concatenates the same tables)
        for arr in sim._arrays(seed, params, patients=patients, threshold_met=None):
            for name, table in sim._tables(arr, params, start).items():
                if name == "latent":
                    continue
                if name not in writers:
                    writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema, compression="zstd")
                writers[name].write_table(table)
            start += arr["n_sessions"].shape[0]
    finally:
        for w in writers.values():
            w.close()
    done_marker.write_text(f"{patients} patients, seed {seed}\n")
    return folder
