"""Helpers shared by the results builders: chains, withheld and blank entries, CI pairs."""

from __future__ import annotations

from typing import Any

from burnout import privacy


def _responder_chain(counts: dict[int, int], n: int, pub: privacy.Publisher, n_published: bool) -> dict[str, Any]:
    """Responders on at least 1 / 2 / all 3 subscales."""
    keys = {1: "at_least_1", 2: "at_least_2", 3: "all_3"}
    return _chain({keys[j]: counts[j] for j in keys}, n, pub, n_published)


def _chain(counts: dict[str, int], n: int, pub: privacy.Publisher, n_published: bool) -> dict[str, Any]:
    """Proportions of a non-increasing chain of counts under ``n``, safe against subtraction
    (privacy.safe_chain): a withheld step keeps its denominator."""
    shown = privacy.safe_chain(n, counts, min_cell_count=pub.k)
    return {key: pub.prop(c, n, n_published=n_published, hide=key not in shown) for key, c in counts.items()}


def _withheld(entry: dict[str, Any], pub: privacy.Publisher, *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """The same keys with every value blank: statistics over too few (or an unpublished number of) patients."""
    pub.note("statistic")
    return {key: (value if key in keep else _blank(value)) for key, value in entry.items()}


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: (v if key == "method" else _blank(v)) for key, v in value.items()}
    return None


def _pair(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]
