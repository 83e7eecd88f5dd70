"""Small-cell suppression with complementary suppression: the privacy stage.

Rule
----
With ``k = min_cell_count`` (protocol ``[privacy]``, default 11), every count from
1 to k - 1 is a *small count* and is never published, neither directly nor in a form
from which it can be worked out. 0 is published (an empty cell is not a person);
``k = 1`` disables suppression.

Threat model
------------
The attacker sees everything we publish and knows how the numbers relate:

- every published cell, and every published total: the denominator ``n`` of a
  :class:`~burnout.stats.Proportion`, the total of a vector of counts (e.g. the five
  profiles at one timepoint sum to the completers), and the row and column totals of a
  table (the transition matrix: its row totals are the profile counts at "from", its
  column totals those at "to"; we assume both are published even when another part of
  the output suppresses them, which is conservative);
- rates and confidence intervals, which give ``count = rate * n`` back, so a
  suppressed Proportion hides ``count``, ``rate`` and ``ci`` together;
- that counts are non-negative integers.

What we guarantee, for the objects handled here:

- a suppressed cell is never the only suppressed cell of a vector, row or column
  (otherwise ``total - published cells`` gives it back);
- the suppressed cells of a vector, row or column together hold 0 or at least k,
  so their combined count (which the total reveals) is not itself a small count,
  unless the published total is itself below k (then no suppression inside the group
  can help: the caller must not publish that total);
- for a matrix, beyond those per-row/column rules, an exact audit: for every primary
  (small) cell, the largest value consistent with all published numbers is at least
  ``min(k, row total, column total)`` - nobody can tell the cell is small - and the
  cell's value is not pinned down unless the row and column totals alone pin it.
  The audit solves the two linear programmes ``min/max x_ij`` subject to the
  published totals and ``x >= 0``; the constraint matrix of a two-way table is
  totally unimodular, so these bounds are the exact integer bounds.

Not covered: an attacker who reasons about the suppression algorithm itself (e.g. that
a complement is the smallest eligible cell), and relations between different outputs
that this module is not shown together. If the same cell appears in two outputs (the
transition matrix's ``burnout -> engaged`` cell is also ``profiles.burnout_to_engaged``),
suppress it in both: use :attr:`SuppressedMatrix.suppressed`. Test statistics and
p-values are functions of the counts too: with the margins published, a McNemar
statistic gives back b and c, and an exact p-value can single out one table, so a test
on a table with a suppressed cell should be published coarsely rounded or not at all.
These primitives keep a Proportion's ``n`` (see :func:`suppress_proportion`); the
publication layer below (:class:`Publisher`) hides ``n`` too where it is itself small or
would give a small cell of its family away, and withholds tests beside hidden cells.

Validated in ``tests/privacy/test_privacy.py`` against an independent attacker that finds the
exact range of every suppressed cell by max-flow feasibility checks.

The publication layer
---------------------
:class:`Publisher` is the one place the results tree gets its numbers from
(``results.build_results`` and every ``beyond``/``phq9`` section share one instance),
so the same cell gets the same treatment in every section and the tree's ``privacy``
section can say how many positions each rule hid. Its rules, beyond the cell rules
above: a denominator is a count of its family (missing/unknown is a cell of it); a
statistic over fewer than k patients, or over a group whose size is hidden, is
withheld; a test on a table with a hidden cell is withheld or computed over the
published levels only. docs/privacy.md lists where each rule applies.

Least-loss complementary suppression
------------------------------------
Choosing the complements is the *secondary cell suppression problem* of statistical
disclosure control: hide a set of extra cells, of least total cost, such that no
primary cell can be recovered (or bounded to a small range) from the published
cells and totals. τ-ARGUS (Statistics Netherlands; de Wolf, Hundepool, Giessing,
Salazar & Castro, *τ-ARGUS 4.1 User's Manual*, 2014) and R's sdcTable (Meindl,
``protectTable``: "OPT", "HITAS", "HYPERCUBE", "SIMPLEHEURISTIC") solve it with a
cost per cell; the optimal method is the mixed-integer programme of Fischetti &
Salazar (2000, *JASA* 95:916-928), the heuristics protect one sub-table at a time
and then audit the result by solving the attacker's problem (sdcTable's
SIMPLEHEURISTIC; the audit of :func:`suppress_matrix` here). Hundepool et al. (2012,
*Statistical Disclosure Control*, Wiley, ch. 4-5) describe both and the usual costs.

Our tables are small one- and two-way frequency tables, so we use the heuristic with
a lexicographic cost per candidate cell (:func:`_close_vector`):

1. cells that are never published (a residual such as "neither improved nor
   deteriorated", "not female"): hiding them loses nothing;
2. unknown/other/missing levels (:data:`UNKNOWN_LEVELS`): least analytic value;
3. then the smallest count (τ-ARGUS's "frequency" cost: hide as few patients as
   possible), ties by order, so the result is deterministic.

A structural total is never chosen while a cheaper cell protects the same primary:
in the flow, a small exclusion before the threshold is protected by the grand total
of patients, not by the below-threshold exclusion. When the only candidates left are
whole levels (two routes and a small unknown one under a published total), one level
must be hidden: no choice of complements can avoid it, since the total minus the
published levels would give the small one back.

Global recoding
---------------
Beside suppression, the other standard remedy (Hundepool et al. 2012, section 3.4;
sdcMicro's ``globalRecode``): a variable's unknown/other levels that together are small
in any published population are merged into one real level everywhere, so a whole real
level (all the men) need not be hidden as their complement (:func:`plan_merges`,
:mod:`burnout.privacy.recode`; applied to the aggregates by ``results.recode``).
"""

from burnout.privacy.matrix import SuppressedMatrix, suppress_matrix
from burnout.privacy.publish import COUNT_KEYS, RULES, UNKNOWN_LEVELS, HiddenReason, Publisher
from burnout.privacy.recode import RESIDUAL_WORDS, is_residual, merged_label, plan_merges
from burnout.privacy.suppress import (
    CohortTooSmall,
    check_cohort_size,
    hide_jointly,
    is_small_count,
    safe_chain,
    suppress_count,
    suppress_proportion,
    suppress_proportions,
    suppress_vector,
)

__all__ = [
    "COUNT_KEYS",
    "CohortTooSmall",
    "HiddenReason",
    "Publisher",
    "RULES",
    "SuppressedMatrix",
    "UNKNOWN_LEVELS",
    "check_cohort_size",
    "hide_jointly",
    "RESIDUAL_WORDS",
    "is_residual",
    "is_small_count",
    "merged_label",
    "plan_merges",
    "safe_chain",
    "suppress_count",
    "suppress_matrix",
    "suppress_proportion",
    "suppress_proportions",
    "suppress_vector",
]
