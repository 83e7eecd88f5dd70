"""Small-cell suppression with complementary suppression: the privacy stage. (publish)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from burnout.privacy.recode import RESIDUAL_WORDS
from burnout.privacy.suppress import _check_count, _check_k, _close_vector
from burnout.stats import Interval, proportion

__all__ = ["COUNT_KEYS", "Publisher", "RULES", "UNKNOWN_LEVELS"]


# --------------------------------------------------------------------------- the publication layer
HiddenReason = Literal["small", "complement"]

COUNT_KEYS: frozenset[str] = frozenset(
    {"n", "patients", "threshold_met", "completers", "observations", "patients_imputed", "burnout_at_baseline"}
)
"""Keys whose int values are counts of patients (rounded by ``[privacy] round_to``)."""

_WITHHELD_WHEN_ROUNDED = frozenset({"t", "df", "statistic"})
"""Numbers withheld with ``round_to`` > 1: a test statistic and its df carry the exact n."""

_PLAN_INPUTS = frozenset(
    {"delta", "deltas", "delta_grid", "margin", "rho", "reliability", "tipping_point", "tipping_on_grid"}
)
"""Numbers the plan chose (a sensitivity grid and its points, a margin, a reliability): about nobody,
so ``round_to`` leaves them as they are (coarsening them would mislabel the rows they name)."""

SUM_SLACK = 6.0
"""With ``round_to`` > 1, n x (a published mean) is uncertain by at least this much (points)."""

_GRIDS = tuple(m * 10.0**e for e in range(-3, 2) for m in (1, 2, 5))

_ROW_KEYS = frozenset({"burnout", "overextended", "disengaged", "ineffective", "engaged"})  # transition rows


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


RULES: tuple[str, ...] = ("small", "complement", "statistic", "test")
"""What :attr:`Publisher.hidden_counts` counts: cells hidden for being small (primary),
cells hidden to protect a small cell (complementary), statistics withheld for being over
fewer than k patients (or over a group whose size is hidden), and tests withheld for
resting on a table with a hidden cell."""

UNKNOWN_LEVELS: frozenset[str] = frozenset(RESIDUAL_WORDS)
"""Level names that are preferred as complements (they carry the least analytic value)."""


class Publisher:
    """The one publication layer: every count and statistic of the results tree passes it.

    Rules (``k = min_cell_count``):

    - a count in 1..k-1 is hidden (primary, ``"hidden": "small"``, read "<k");
    - counts that add up to a published total form a *family*; a hidden cell is never
      alone in its family and the hidden cells together hold 0 or >= k. Complements
      are chosen to lose least (:func:`_close_vector`): first cells that are never
      published anyway (a residual such as "neither improved nor deteriorated", or
      "not female"), then unknown/other/missing levels, then the smallest count; they
      read ``"hidden": "complement"`` ("hidden to protect a small cell");
    - a denominator is a count of its family (missing/unknown is a cell of it): a
      Proportion whose ``n`` is hidden or small is hidden whole;
    - a statistic (mean, SD, CI, dz, test, model summary, observation count) over
      fewer than k patients, or over a group whose size is hidden, is withheld;
    - a test on a table with a hidden cell is withheld (never computed on part of it).

    :attr:`hidden_counts` tallies how many published positions each rule hid (the
    ``privacy`` section of results.json).

    Examples
    --------
    >>> pub = Publisher(min_cell_count=11)
    >>> pub.prop(4, 395)["hidden"], pub.prop(390, 395)["hidden"], pub.prop(40, 395)["count"]
    ('small', 'complement', 40)
    >>> pub.hidden_counts
    {'small': 1, 'complement': 1, 'statistic': 0, 'test': 0}
    """

    def __init__(self, *, min_cell_count: int, confidence: float = 0.95, round_to: int = 1) -> None:
        self.k = _check_k(min_cell_count)
        self.conf = confidence
        self.round_to = _check_k(round_to)
        self.hidden_counts: dict[str, int] = dict.fromkeys(RULES, 0)

    @classmethod
    def for_plan(cls, protocol: object) -> Publisher:
        """A publisher with the plan's ``[privacy] min_cell_count`` and ``round_to`` and ``[analysis] confidence``."""
        return cls(
            min_cell_count=protocol.privacy.min_cell_count,  # type: ignore[attr-defined]  # protocol is typed object so privacy need not import plan
            confidence=protocol.analysis.confidence,  # type: ignore[attr-defined]  # protocol is typed object so privacy need not import plan
            round_to=protocol.privacy.round_to,  # type: ignore[attr-defined]  # protocol is typed object so privacy need not import plan
        )

    # -- rounding (differencing) -------------------------------------------------------
    def rounded(self, count: int) -> int:
        """``count`` to the nearest multiple of ``round_to`` (halves up); 0 stays 0.

        >>> Publisher(min_cell_count=11, round_to=5).rounded(392)
        390
        >>> Publisher(min_cell_count=11, round_to=5).rounded(13)
        15
        """
        base = self.round_to
        return base * ((count + base // 2) // base)

    def round_tree(self, node: Any, *, key: str = "", n: int | None = None) -> Any:
        """Every published number of a results (sub)tree made unable to give back an exact n or sum.

        With ``round_to`` above 1 (docs/privacy.md, "Differencing"):

        - Proportions get rounded ``count`` and ``n`` and a rate and CI recomputed from them
          (as statistics offices publish rounded tables); other counts (keys in
          :data:`COUNT_KEYS`, the flow's exclusions, the transition cells) are rounded;
        - test statistics and degrees of freedom (``t``, ``df``, ``statistic``: a paired
          t's df is n - 1) are withheld, and p-values rounded up to a multiple of 0.01;
        - every other number (means, SDs, CIs, changes, effect sizes, differences, model
          summaries) is rounded to the grid :meth:`grid` of the nearest group size ``n``
          above it in the tree (the caller's ``n`` at the top), so n x mean is known only
          to within at least +/-3 score points and a difference of two runs' sums cannot
          single out one patient's score.
        """
        if self.round_to == 1:
            return node
        if isinstance(node, dict):
            if {"count", "n", "rate", "ci", "suppressed"} <= node.keys() and not node["suppressed"]:
                if node["count"] is None or node["n"] is None:
                    return node
                again = proportion(
                    self.rounded(node["count"]),
                    self.rounded(node["n"]),
                    confidence=self.conf,
                    interval=node.get("interval", "wilson"),
                )
                return {**node, **again.to_json()}
            # the grid follows the n as published (rounded): an exact n would show in the precision
            here = self.rounded(node["n"]) if _is_count(node.get("n")) and node["n"] > 0 else n
            counts_below = key in ("exclusions", "counts") or key in _ROW_KEYS
            return {k: self._round_value(k, v, here, counts_below) for k, v in node.items()}
        if isinstance(node, list):
            return [self.round_tree(v, key=key, n=n) for v in node]
        return node

    def _round_value(self, key: str, value: Any, n: int | None, counts_below: bool) -> Any:
        if key in _PLAN_INPUTS and not isinstance(value, dict) and not _holds_dicts(value):
            return value  # a number or numbers the plan chose ("reliability" is also a section's name)
        if _is_count(value) and (key in COUNT_KEYS or counts_below):
            return self.rounded(value)
        if key in _WITHHELD_WHEN_ROUNDED and isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if key in ("p", "p_holm") and isinstance(value, float):
            return min(1.0, max(0.01, math.ceil(value * 100 - 1e-9) / 100))  # never more significant than computed
        if isinstance(value, float):
            return self.coarse(value, n)
        if isinstance(value, list):  # every item, at any depth ([low, high] pairs, a CI with a None)
            return [self._round_value(key, v, n, counts_below) for v in value]
        return self.round_tree(value, key=key, n=n)

    def grid(self, n: int | None) -> float:
        """The rounding grid of a statistic over ``n`` patients when ``round_to`` > 1: the
        finest of 0.001, 0.002, 0.005, 0.01, ... with (smallest possible true n) x grid >= 6
        (:data:`SUM_SLACK` points), so n x mean is uncertain by at least +/-3 points.

        >>> pub = Publisher(min_cell_count=11, round_to=5)
        >>> pub.grid(200), pub.grid(395), pub.grid(1640), pub.grid(20)
        (0.05, 0.02, 0.005, 0.5)
        """
        low = (n if n is not None else 0) - self.round_to // 2
        for g in _GRIDS:
            if low > 0 and low * g >= SUM_SLACK:
                return g
        return _GRIDS[-1]

    def coarse(self, value: float, n: int | None) -> float:
        """``value`` rounded to :meth:`grid` of ``n`` (halves away from zero are Python's round)."""
        g = self.grid(n)
        return round(round(value / g) * g, 6)

    def __repr__(self) -> str:
        return f"<Publisher: min_cell_count={self.k}, hidden {self.hidden_counts}>"

    # -- single numbers --------------------------------------------------------------
    def small(self, count: int | None) -> bool:
        """A count in 1..k-1 (None, a hidden count, is not small: it is already hidden)."""
        return count is not None and 1 <= count < self.k

    def enough(self, n: int | None) -> bool:
        """Whether a statistic over ``n`` patients may be published (n known and not in 1..k-1)."""
        return n is not None and not 1 <= n < self.k

    def enough_of(self, n: int, total: int | None, *, total_published: bool = True) -> bool:
        """Whether a statistic over ``n`` patients of a group of ``total`` may be published with
        its n: the group's size published, n :meth:`enough`, and the rest of the group
        (``total - n``, e.g. those without the score) not small, which n would give away.
        ``total`` None: n is not part of a published group.

        >>> pub = Publisher(min_cell_count=11)
        >>> pub.enough_of(380, 400), pub.enough_of(390, 400), pub.enough_of(380, 400, total_published=False)
        (True, False, False)
        """
        return total_published and self.enough(n) and (total is None or not self.small(total - n))

    def note(self, rule: str, cells: int = 1) -> None:
        """Count ``cells`` positions hidden by ``rule`` (one of :data:`RULES`)."""
        self.hidden_counts[rule] += cells

    def count(self, count: int, *, hide: bool = False) -> int | None:
        """A count on its own: None when small (or when ``hide``: a complement)."""
        if self.small(count):
            self.note("small")
            return None
        if hide:
            self.note("complement")
            return None
        return count

    def hidden(self, reason: HiddenReason, *, n: int | None = None) -> dict[str, Any]:
        """A hidden Proportion: count, rate and CI blank together, with the reason."""
        self.note(reason)
        return {"count": None, "n": n, "rate": None, "ci": None, "suppressed": True, "hidden": reason}

    def prop(
        self, count: int, n: int, *, n_published: bool = True, hide: bool = False, interval: Interval = "wilson"
    ) -> dict[str, Any]:
        """A Proportion ``count / n`` through the rules.

        Hidden whole (n too) when ``n`` is small or not published; hidden with ``n`` kept
        when ``count`` or ``n - count`` is small, or when ``hide`` (a complement chosen
        by the caller's family). ``interval="clopper-pearson"`` gives the exact interval
        and says so in the Proportion (``"interval"``), so rounding recomputes the same kind.
        """
        if not n_published or self.small(n):
            return self.hidden("small" if self.small(count) or self.small(n) else "complement")
        if self.small(count):
            return self.hidden("small", n=n)
        if hide or self.small(n - count):
            return self.hidden("complement", n=n)
        out = proportion(count, n, confidence=self.conf, interval=interval).to_json()
        return out if interval == "wilson" else out | {"interval": interval}

    # -- families --------------------------------------------------------------------
    def protect(
        self,
        counts: Mapping[str, int],
        *,
        free: Iterable[str] = (),
        prefer: Iterable[str] = (),
        hidden: Iterable[str] = (),
    ) -> frozenset[str]:
        """Keys to hide in a family of counts whose total is published (least-loss complements).

        ``free`` keys are never published (hiding them costs nothing, so they are the
        first complements); ``prefer`` keys (unknown/other/missing) come next; then
        the smallest count. ``hidden`` keys start hidden.
        """
        return self.protect_jointly([counts], free=free, prefer=prefer, hidden=hidden)

    def protect_jointly(
        self,
        vectors: Sequence[Mapping[str, int]],
        *,
        free: Iterable[str] = (),
        prefer: Iterable[str] = (),
        hidden: Iterable[str] = (),
    ) -> frozenset[str]:
        """:meth:`protect` over several families with the same keys (a level hidden in all)."""
        keys = list(vectors[0])
        free, prefer = set(free), set(prefer) | {key for key in keys if key.strip().lower() in UNKNOWN_LEVELS}
        cost = [0 if key in free else 1 if key in prefer else 2 for key in keys]
        values = [[_check_count(f"counts[{key!r}]", v[key]) for key in keys] for v in vectors]
        forced = set(hidden)
        suppressed = {i for i, key in enumerate(keys) if key in forced or any(1 <= row[i] < self.k for row in values)}
        while any([_close_vector(row, suppressed, self.k, cost) for row in values]):
            pass
        return frozenset(keys[i] for i in suppressed)

    def family(
        self,
        counts: Mapping[str, int],
        n: int,
        *,
        n_published: bool = True,
        free: Iterable[str] = (),
        prefer: Iterable[str] = (),
    ) -> dict[str, dict[str, Any]]:
        """Proportions sharing the denominator ``n`` whose counts (with ``free`` ones) add up to it.

        Returns the non-free keys only.
        """
        free = set(free)
        shown = [key for key in counts if key not in free]
        # with n hidden, `prop` hides each whole (n too): no complements to choose
        hide = self.protect(counts, free=free, prefer=prefer) if n_published and not self.small(n) else frozenset()
        return {key: self.prop(counts[key], n, n_published=n_published, hide=key in hide) for key in shown}

    def withheld_test(self, test: str) -> dict[str, Any]:
        """A test withheld because its table has a hidden cell (or too few patients)."""
        self.note("test")
        return {"statistic": None, "df": None, "p": None, "test": test, "withheld": True}

    def summary(self) -> dict[str, Any]:
        """The ``privacy`` section of results.json: the rule's k, the rounding base and how many
        positions each rule hid."""
        return {"min_cell_count": self.k, "round_to": self.round_to, "hidden": dict(self.hidden_counts)}


def _holds_dicts(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)
