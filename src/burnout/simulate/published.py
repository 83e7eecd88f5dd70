"""The reference study's published figures, and where each lives in results.json.

Source: the preprint, doi 10.21203/rs.3.rs-10020276/v1 (the study docs/synthetic-cohort.md calibrates to).
Denominator 395 completers unless stated. ``tolerance`` is what the calibrated
synthetic cohort must meet at its default seed (issue: the demo); it is in the
figure's own unit (patients, score points, or a rate as a fraction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["PUBLISHED", "EFFECT_SIZE_LABELS", "PublishedFigure", "compare"]

Kind = Literal["count", "mean", "rate"]


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    """One published number: a label, its value, its kind and how to read ours."""

    label: str
    value: float
    kind: Kind
    tolerance: float
    get: Callable[[dict[str, Any]], float | int | None]
    key: str  # short name in the simulator's calibration (tools/calibration.py)

    def display(self, value: float | int | None) -> str:
        """The value formatted as the paper prints it."""
        if value is None:
            return "suppressed"
        if self.kind == "count":
            return f"{int(value):,}"
        if self.kind == "rate":
            return f"{100 * value:.1f}%"
        return f"{value:.2f}"


def _count(*path: str) -> Callable[[dict[str, Any]], int | None]:
    def get(tree: dict[str, Any]) -> int | None:
        node: Any = tree
        for key in path:
            node = node[key]
        return node["count"] if isinstance(node, dict) else node

    return get


def _rate(*path: str) -> Callable[[dict[str, Any]], float | None]:
    def get(tree: dict[str, Any]) -> float | None:
        node: Any = tree
        for key in path:
            node = node[key]
        return node["rate"]

    return get


def _mean(subscale: str, t: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda tree: tree["subscales"][subscale]["timepoints"][t]["mean"]


_S = {"exhaustion": "Exhaustion", "cynicism": "Cynicism", "professional_efficacy": "Professional Efficacy"}
_KEY = {"exhaustion": "E", "cynicism": "C", "professional_efficacy": "PE"}
_MEANS = {
    "exhaustion": (5.57, 4.95, 4.32, 4.09),
    "cynicism": (4.89, 4.38, 3.98, 3.82),
    "professional_efficacy": (3.78, 3.98, 4.06, 4.03),
}

PUBLISHED: Final[tuple[PublishedFigure, ...]] = (
    PublishedFigure(
        "met the threshold at baseline", 1642, "count", 0, lambda t: t["flow"]["threshold_met"], "threshold_met"
    ),
    PublishedFigure("completers (analysed)", 395, "count", 0, lambda t: t["flow"]["completers"], "completers"),
    PublishedFigure(
        "responded on Exhaustion", 219, "count", 3, _count("subscales", "exhaustion", "response"), "respond_E"
    ),
    PublishedFigure("responded on Cynicism", 193, "count", 3, _count("subscales", "cynicism", "response"), "respond_C"),
    PublishedFigure(
        "responded on Professional Efficacy",
        104,
        "count",
        3,
        _count("subscales", "professional_efficacy", "response"),
        "respond_PE",
    ),
    PublishedFigure(
        "responded on at least 1 subscale", 275, "count", 3, _count("responders", "at_least_1"), "at_least_1"
    ),
    PublishedFigure(
        "responded on at least 2 subscales", 182, "count", 3, _count("responders", "at_least_2"), "at_least_2"
    ),
    PublishedFigure("responded on all 3 subscales", 59, "count", 3, _count("responders", "all_3"), "all_3"),
    PublishedFigure(
        "below the threshold after session 6", 235, "count", 4, _count("below_threshold", "6"), "below_threshold_6"
    ),
    PublishedFigure(
        "Burnout profile at baseline", 71, "count", 2, lambda t: t["profiles"]["burnout_at_baseline"], "burnout_0"
    ),
    PublishedFigure(
        "  of those, no longer Burnout after session 6",
        54,
        "count",
        2,
        _count("profiles", "burnout_resolved"),
        "burnout_resolved",
    ),
    PublishedFigure(
        "  of those, Engaged after session 6",
        23,
        "count",
        2,
        _count("profiles", "burnout_to_engaged"),
        "burnout_to_engaged",
    ),
    PublishedFigure("Engaged profile at baseline", 67, "count", 5, _count("profiles", "0", "engaged"), "engaged_0"),
    PublishedFigure(
        "Engaged profile after session 6", 193, "count", 5, _count("profiles", "6", "engaged"), "engaged_6"
    ),
    PublishedFigure(
        "Ineffective profile at baseline", 22, "count", 5, _count("profiles", "0", "ineffective"), "ineffective_0"
    ),
    PublishedFigure(
        "Ineffective profile after session 6", 68, "count", 5, _count("profiles", "6", "ineffective"), "ineffective_6"
    ),
    *(
        PublishedFigure(
            f"{_S[s]} mean, {'baseline' if t == '0' else 'after session ' + t}",
            v,
            "mean",
            0.03,
            _mean(s, t),
            f"mean_{_KEY[s]}_{t}",
        )
        for s, values in _MEANS.items()
        for t, v in zip(("0", "2", "4", "6"), values, strict=True)
    ),
    PublishedFigure("side effects after session 2", 0.043, "rate", 0.006, _rate("side_effects", "2"), "side_effects_2"),
    PublishedFigure("side effects after session 4", 0.035, "rate", 0.006, _rate("side_effects", "4"), "side_effects_4"),
    PublishedFigure("side effects after session 6", 0.041, "rate", 0.006, _rate("side_effects", "6"), "side_effects_6"),
)

# Published effect-size labels (Cohen's 0.2 / 0.5 / 0.8 on |dz|): (subscale, timepoint) -> allowed labels.
EFFECT_SIZE_LABELS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("exhaustion", "2"): ("medium",),
    ("exhaustion", "6"): ("large",),
    ("cynicism", "2"): ("small", "medium"),
    ("cynicism", "6"): ("medium", "large"),
}


def compare(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """Each published figure beside this run's: label, published, ours, difference, within tolerance."""
    rows = []
    for fig in PUBLISHED:
        ours = fig.get(tree)
        diff = None if ours is None else ours - fig.value
        rows.append(
            {
                "label": fig.label,
                "published": fig.display(fig.value),
                "this_run": fig.display(ours),
                "difference": diff,
                "within_tolerance": diff is not None and abs(diff) <= fig.tolerance + 1e-12,
                "tolerance": fig.tolerance,
            }
        )
    for (s, t), labels in EFFECT_SIZE_LABELS.items():
        ours = tree["subscales"][s]["timepoints"][t]["effect_size"]["label"]
        rows.append(
            {
                "label": f"{_S[s]} effect size after session {t}",
                "published": " to ".join(labels),
                "this_run": ours,
                "difference": None,
                "within_tolerance": ours in labels,
                "tolerance": None,
            }
        )
    for s, expected in (("exhaustion", False), ("cynicism", False), ("professional_efficacy", True)):
        ours = tree["subscales"][s]["plateau"]["plateaued"]
        rows.append(
            {
                "label": f"{_S[s]} plateau (session 4 to 6)",
                "published": "plateaued by session 4" if expected else "no plateau",
                "this_run": "plateaued" if ours else "no plateau",
                "difference": None,
                "within_tolerance": ours == expected,
                "tolerance": None,
            }
        )
    return rows
