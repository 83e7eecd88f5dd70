"""Helpers shared by the results builders: chains, withheld and blank entries, CI pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from burnout import privacy

if TYPE_CHECKING:
    from burnout.measures import Measures
    from burnout.plan import Protocol
    from burnout.results.recode import Merges


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


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every section of the main results tree reads (``build_results``).

    ``m`` are the measures after global recoding (``merges``); ``comp_pub``/``itt_pub`` say
    whether the flow published the completers' and the threshold-met totals (a statistic
    over a group needs its n); ``hidden_levels`` are the subgroup levels hidden everywhere.
    """

    m: Measures
    protocol: Protocol
    pub: privacy.Publisher
    merges: Merges
    comp_pub: bool
    itt_pub: bool
    hidden_levels: dict[str, dict[str, privacy.HiddenReason]]

    def prop(self, count: int, n: int, *, n_published: bool = True) -> dict[str, Any]:
        return self.pub.prop(count, n, n_published=n_published)

    def completers_prop(self, count: int) -> dict[str, Any]:
        """A proportion of the completers (their n published with the flow or not at all)."""
        return self.pub.prop(count, self.m.completers, n_published=self.comp_pub)

    def stats_ok(self, n: int) -> bool:
        """Statistics over n completers: n published with them, so n must be a safe count of its
        family (completers with vs without the score) and the completers' total published."""
        return self.pub.enough_of(n, self.m.completers, total_published=self.comp_pub)
