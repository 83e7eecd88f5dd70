"""Shared by the scale benchmark (run.py) and its hand-written references.

- :func:`generate`: a simulated cohort (``burnout.simulate``) written as Parquet in
  chunks of 131,072 patients, so 10M patients fit in a few GiB; the rows equal
  ``simulate_cohort(patients=N, seed=seed)``'s.
- :class:`Plan`: the default analysis plan (read from burnout) as the integer
  constants the references use (cut-offs in units of 1/600,000 point).
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
import re
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
    """The analysis plan as the integers the references use (cut-offs in units of 1/SCALE)."""

    assessments: tuple[int, ...]
    sessions: int
    max_missing: int
    e_min: int  # E >= e_min
    c_min: int  # C >= c_min
    pe_max: int  # PE <= pe_max
    min_change: int
    z: tuple[tuple[str, Fraction], ...]  # z-score profile boundaries (reference: completers' baseline)
    age_bands: tuple[tuple[str, int, int | None], ...]
    subgroups: tuple[str, ...]

    @classmethod
    def default(cls) -> Plan:
        """burnout's default plan (the reference study's), read from burnout itself.

        Only the numbers come from burnout; the references compute with them on their own.
        """
        from burnout.plan import load_protocol

        p = load_protocol(None)
        if p.profiles.method != "zscore" or p.profiles.reference != "baseline":
            raise ValueError("the hand-written references implement z-score profiles against the completers' baseline")

        def exact(v: float) -> Fraction:
            return Fraction(str(v))

        bands = list(p.subgroups.age_bands)
        lowers = bands if bands[0] == 18 else [18, *bands]
        age_bands = tuple(
            (f"{lo}+" if hi is None else f"{lo}-{hi - 1}", lo, hi)
            for lo, hi in zip(lowers, [*lowers[1:], None], strict=True)
        )
        return cls(
            assessments=tuple(p.schedule.assessments),
            sessions=p.schedule.sessions,
            max_missing=p.scoring.max_missing_items,
            e_min=math.ceil(exact(p.eligibility.exhaustion_min) * SCALE),
            c_min=math.ceil(exact(p.eligibility.cynicism_min) * SCALE),
            pe_max=math.floor(exact(p.eligibility.efficacy_max) * SCALE),
            min_change=math.ceil(exact(p.response.min_change) * SCALE),
            z=tuple((s, exact(getattr(p.profiles, s))) for s in SUBSCALES),
            age_bands=age_bands,
            subgroups=tuple(p.subgroups.by),
        )

    @property
    def first(self) -> int:
        return self.assessments[0]

    @property
    def last(self) -> int:
        return self.assessments[-1]


_PLAN: Plan | None = None


def __getattr__(name: str) -> Any:
    # PLAN is built on first use, so that importing this module stays light
    global _PLAN
    if name == "PLAN":
        if _PLAN is None:
            _PLAN = Plan.default()
        return _PLAN
    raise AttributeError(name)


def profile_cutoffs(baseline: dict[str, list[int]], plan: Plan | None = None) -> dict[str, int]:
    """Integer cut-offs from the completers' baseline [n, sum, sum_sq] (z-scores), as burnout does.

    mean and sd are floats in points (burnout: ``measures._profile_reference``); the
    raw cut-off mean + z * sd is taken exactly (Fraction of those floats) and turned
    into units with ceil (E, C) or floor (PE).
    """
    plan = plan or __getattr__("PLAN")
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


def fold_profile_rows(rows: list[tuple[Any, ...]], assessments: tuple[int, ...], out: dict[str, Any]) -> None:
    """Fill ``out``'s profiles, transitions and response patterns from grouped completer rows:
    (profile at each assessment..., response per subscale..., count)."""
    nt = len(assessments)
    out["profiles"] = {str(t): dict.fromkeys(PROFILES, 0) for t in assessments}
    out["transitions"], out["patterns"] = {}, {}
    for r in rows:
        n = r[-1]
        for i, t in enumerate(assessments):
            out["profiles"][str(t)][r[i]] += n
        tr = f"{r[0]}>{r[nt - 1]}"
        out["transitions"][tr] = out["transitions"].get(tr, 0) + n
        pk = pattern_key(tuple(r[nt : nt + 3]))
        out["patterns"][pk] = out["patterns"].get(pk, 0) + n


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
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for chunk in sim.simulate_chunks(patients=patients, seed=seed):
            for name, table in chunk.items():
                if name == "latent":
                    continue
                if name not in writers:
                    writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema, compression="zstd")
                writers[name].write_table(table)
    finally:
        for w in writers.values():
            w.close()
    done_marker.write_text(f"{patients} patients, seed {seed}\n")
    return folder


README = Path(__file__).resolve().parent / "README.md"


def _section_pattern(heading: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)


def read_section(heading: str) -> str:
    """The section of benchmarks/README.md under ``heading`` (to the next "## "), or ""."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    found = _section_pattern(heading).search(text)
    return found.group(0) if found else ""


def replace_section(heading: str, section: str) -> None:
    """Put ``section`` (starting with ``heading``) in place of that section of
    benchmarks/README.md, or append it; every other section is kept."""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    section = section.rstrip("\n") + "\n\n"
    pattern = _section_pattern(heading)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    README.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def cli_main(run: Any) -> None:
    """``bench_X.py FOLDER [OUT.json]``: time ``run(FOLDER)`` and write {"seconds", "measures"}."""
    import json
    import sys
    import time

    folder = Path(sys.argv[1])
    t0 = time.perf_counter()
    out = run(folder)
    seconds = time.perf_counter() - t0
    text = json.dumps({"seconds": seconds, "measures": out})
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(text)
    else:
        print(text)
