"""privacy.py against an independent attacker.

The attacker sees what an output publishes (unsuppressed cells, row and column totals,
a Proportion's n) and works out the exact set of values each hidden cell can take: for
every candidate value it fixes the cell and checks, by max-flow, whether the other
hidden cells can be filled with non-negative integers that meet the totals. It uses no
linear programming, so it is independent of the module's own audit.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import burnout.privacy as privacy
import burnout.privacy.matrix as privacy_matrix
from burnout.privacy import (
    hide_jointly,
    is_small_count,
    safe_chain,
    suppress_matrix,
    suppress_proportion,
    suppress_proportions,
    suppress_vector,
)
from burnout.stats import Proportion, proportion

K = 11


# --------------------------------------------------------------------------- the attacker
def _max_flow(capacity: dict[tuple[str, str], int], source: str, sink: str) -> int:
    """Edmonds-Karp on a small graph given as {(u, v): capacity}."""
    residual: dict[str, dict[str, int]] = {}
    for (u, v), c in capacity.items():
        residual.setdefault(u, {}).setdefault(v, 0)
        residual.setdefault(v, {}).setdefault(u, 0)
        residual[u][v] += c
    flow = 0
    while True:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v, c in residual[u].items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return flow
        path = []
        v = sink
        while v != source:
            path.append((parent[v], v))
            v = parent[v]
        push = min(residual[u][v] for u, v in path)
        for u, v in path:
            residual[u][v] -= push
            residual[v][u] += push
        flow += push


def _fillable(hidden: list[tuple[int, int]], row_need: dict[int, int], col_need: dict[int, int]) -> bool:
    """Can the hidden cells take non-negative integers with these row and column sums?"""
    if any(v < 0 for v in row_need.values()) or any(v < 0 for v in col_need.values()):
        return False
    if sum(row_need.values()) != sum(col_need.values()):
        return False
    if sum(row_need.values()) == 0:
        return True  # every hidden cell 0
    big = sum(row_need.values()) + 1
    cap: dict[tuple[str, str], int] = {}
    for i, v in row_need.items():
        cap[("s", f"r{i}")] = v
    for j, v in col_need.items():
        cap[(f"c{j}", "t")] = v
    for i, j in hidden:
        cap[(f"r{i}", f"c{j}")] = big
    return _max_flow(cap, "s", "t") == sum(row_need.values())


def attacker_ranges(published: list[list[int | None]], row_tot: list[int], col_tot: list[int]) -> dict:
    """Exact feasible (min, max) of every hidden cell, from published cells and totals only."""
    hidden = [(i, j) for i, row in enumerate(published) for j, v in enumerate(row) if v is None]
    row_need = {i: row_tot[i] - sum(v for v in published[i] if v is not None) for i, _ in hidden}
    col_need = {
        j: col_tot[j] - sum(published[i][j] for i in range(len(published)) if published[i][j] is not None)
        for _, j in hidden
    }
    out = {}
    for cell in hidden:
        i, j = cell
        rest = [c for c in hidden if c != cell]

        def feasible(v: int) -> bool:
            rn, cn = dict(row_need), dict(col_need)
            rn[i] -= v
            cn[j] -= v
            rows_used = {a for a, _ in rest}
            cols_used = {b for _, b in rest}
            # a row/column with no other hidden cell must be met exactly by this one
            if any(rn[a] != 0 for a in rn if a not in rows_used) or any(cn[b] != 0 for b in cn if b not in cols_used):
                return False
            return _fillable(rest, {a: rn[a] for a in rows_used}, {b: cn[b] for b in cols_used})

        cap = min(row_need[i], col_need[j])
        values = [v for v in range(cap + 1) if feasible(v)]
        out[cell] = (min(values), max(values))
    return out


def _matrix(values: np.ndarray) -> dict[str, dict[str, int]]:
    return {f"r{i}": {f"c{j}": int(values[i, j]) for j in range(values.shape[1])} for i in range(values.shape[0])}


def _published(result: privacy.SuppressedMatrix) -> list[list[int | None]]:
    return [list(row.values()) for row in result.counts.values()]


def assert_protected(values: np.ndarray, k: int) -> privacy.SuppressedMatrix:
    """Run suppress_matrix and check every guarantee with the attacker."""
    res = suppress_matrix(_matrix(values), min_cell_count=k)
    pub = _published(res)
    row_tot = [int(v) for v in values.sum(axis=1)]
    col_tot = [int(v) for v in values.sum(axis=0)]
    grand = sum(row_tot)
    n_rows, n_cols = values.shape
    # every small count is hidden; every published cell is the true one
    for i in range(n_rows):
        for j in range(n_cols):
            if 1 <= values[i, j] < k:
                assert pub[i][j] is None
            if pub[i][j] is not None:
                assert pub[i][j] == values[i, j]
    # per row and column: never exactly one hidden cell; hidden cells hold 0 or >= k unless the total is < k
    for line in [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)
    ]:
        hidden = [c for c in line if pub[c[0]][c[1]] is None]
        total = sum(int(values[c]) for c in line)
        assert len(hidden) != 1, (line, pub)
        held = sum(int(values[c]) for c in hidden)
        assert not 1 <= held < k or total < k, (line, held, pub)
    # the attacker cannot tell any small cell is small, nor pin it beyond what the totals pin
    ranges = attacker_ranges(pub, row_tot, col_tot)
    for (i, j), (low, high) in ranges.items():
        assert low <= values[i, j] <= high
        if 1 <= values[i, j] < k:
            cap = min(row_tot[i], col_tot[j])
            assert high >= min(k, cap), ((i, j), low, high, pub)
            totals_pin = max(0, row_tot[i] + col_tot[j] - grand) == cap
            assert low < high or totals_pin, ((i, j), low, high, pub)
    return res


# --------------------------------------------------------------------------- proportions
def test_is_small_count_boundaries() -> None:
    assert [is_small_count(c, min_cell_count=K) for c in (0, 1, K - 1, K, 500)] == [False, True, True, False, False]
    assert not any(is_small_count(c, min_cell_count=1) for c in range(5))


def test_suppress_count_boundaries() -> None:
    assert [privacy.suppress_count(c, min_cell_count=K) for c in (0, 1, K - 1, K)] == [0, None, None, K]
    assert privacy.suppress_count(3, min_cell_count=1) == 3


def test_suppress_proportion_primary_boundaries() -> None:
    hidden = suppress_proportion(proportion(K - 1, 395), min_cell_count=K)
    assert hidden.suppressed and (hidden.count, hidden.rate, hidden.ci) == (None, None, None)
    assert hidden.n == 395
    assert suppress_proportion(proportion(K, 395), min_cell_count=K) == proportion(K, 395)
    assert suppress_proportion(proportion(0, 395), min_cell_count=K) == proportion(0, 395)
    assert suppress_proportion(proportion(1, 395), min_cell_count=K).suppressed


def test_suppress_proportion_complement_rule() -> None:
    # n is published, so n - count = 10 patients who did not respond would be revealed
    assert suppress_proportion(proportion(385, 395), min_cell_count=K).suppressed
    assert not suppress_proportion(proportion(384, 395), min_cell_count=K).suppressed
    assert not suppress_proportion(proportion(395, 395), min_cell_count=K).suppressed  # complement 0


def test_suppress_proportion_small_denominator() -> None:
    with pytest.raises(ValueError, match="n = 7 is itself a small count"):
        suppress_proportion(proportion(3, 7), min_cell_count=K)
    kept = suppress_proportion(proportion(0, 7), min_cell_count=K, small_n="keep")
    assert kept.suppressed and kept.n == 7 and kept.count is None  # complement 7 is small
    assert suppress_proportion(proportion(0, 0), min_cell_count=K) == proportion(0, 0)
    with pytest.raises(ValueError, match="small_n"):
        suppress_proportion(proportion(50, 100), min_cell_count=K, small_n="drop")  # type: ignore[arg-type]


def test_suppress_proportion_is_idempotent_and_k1_disables() -> None:
    once = suppress_proportion(proportion(4, 395), min_cell_count=K)
    assert suppress_proportion(once, min_cell_count=K) == once
    for count in range(0, 12):
        p = proportion(count, 11)
        assert suppress_proportion(p, min_cell_count=1) == p


def test_suppressed_proportion_hides_every_route_back_to_the_count() -> None:
    p = suppress_proportion(proportion(6, 395), min_cell_count=K).to_json()
    assert p == {"count": None, "n": 395, "rate": None, "ci": None, "suppressed": True}


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "11"])
def test_min_cell_count_is_validated(bad: object) -> None:
    with pytest.raises(ValueError, match="min_cell_count"):
        suppress_vector({"a": 1}, min_cell_count=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- vectors
def _vector_attack(counts: dict[str, int], out: dict[str, int | None], k: int) -> None:
    """From the total and the published cells the attacker learns only the hidden cells' sum."""
    total = sum(counts.values())
    hidden = [key for key, v in out.items() if v is None]
    held = total - sum(v for v in out.values() if v is not None)
    assert held == sum(counts[key] for key in hidden)
    for key, v in counts.items():
        if 1 <= v < k:
            assert out[key] is None
    if hidden:
        assert len(hidden) >= 2 or len(counts) == 1
        # each hidden cell can be anything in [0, held]: not small-pinned unless the total is small
        assert not 1 <= held < k or total < k


def test_suppress_vector_single_small_cell_gets_a_complement() -> None:
    counts = {"burnout": 71, "overextended": 120, "disengaged": 5, "ineffective": 22, "engaged": 177}
    out = suppress_vector(counts, min_cell_count=K)
    # 5 alone would be 395 - (71 + 120 + 22 + 177); the smallest other cell (22) is hidden too
    assert out == {"burnout": 71, "overextended": 120, "disengaged": None, "ineffective": None, "engaged": 177}
    _vector_attack(counts, out, K)


def test_suppress_vector_two_small_cells_summing_below_k_get_a_third() -> None:
    counts = {"a": 3, "b": 4, "c": 30, "d": 12, "e": 12}
    out = suppress_vector(counts, min_cell_count=K)
    # 3 + 4 = 7 would be revealed as a small count; the first of the two 12s joins (key order)
    assert out == {"a": None, "b": None, "c": 30, "d": None, "e": 12}
    _vector_attack(counts, out, K)


def test_suppress_vector_complement_that_is_large_alone_gets_company() -> None:
    counts = {"a": 2, "b": 9, "c": 50}
    out = suppress_vector(counts, min_cell_count=K)
    assert out == {"a": None, "b": None, "c": 50}  # 2 + 9 = 11 >= k: safe
    _vector_attack(counts, out, K)


def test_suppress_vector_zeros_and_small_totals() -> None:
    assert suppress_vector({"a": 0, "b": 40, "c": 0}, min_cell_count=K) == {"a": 0, "b": 40, "c": 0}
    # the total (3) is itself small: a zero is hidden so the 3 is not pinned; the caller must not publish 3
    assert suppress_vector({"a": 0, "b": 3, "c": 0}, min_cell_count=K) == {"a": None, "b": None, "c": 0}
    assert suppress_vector({"a": 3, "b": 4, "c": 1}, min_cell_count=K) == {"a": None, "b": None, "c": None}


def test_suppress_vector_k1_disables() -> None:
    counts = {"a": 1, "b": 2, "c": 0}
    assert suppress_vector(counts, min_cell_count=1) == counts


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.one_of(st.integers(0, 12), st.integers(0, 80)), min_size=1, max_size=7),
    st.sampled_from([1, 2, 5, 11]),
)
def test_suppress_vector_property_attacker_learns_no_small_count(values: list[int], k: int) -> None:
    counts = {f"cell{i}": v for i, v in enumerate(values)}
    out = suppress_vector(counts, min_cell_count=k)
    assert list(out) == list(counts)
    _vector_attack(counts, out, k)


# --------------------------------------------------------------------------- families of proportions
def test_suppress_proportions_subgroup_levels() -> None:
    levels = {"18-34": proportion(80, 120), "35-49": proportion(150, 200), "50+": proportion(70, 75)}
    out = suppress_proportions(levels, min_cell_count=K)
    # 50+: 5 non-responders (complement) -> hidden; then the complements 40, 50, 5 need a partner
    assert out["50+"].suppressed and out["18-34"].suppressed and not out["35-49"].suppressed
    # attacker: level n's and both totals are published; the hidden counts are not recoverable alone
    hidden = [key for key, p in out.items() if p.suppressed]
    assert len(hidden) >= 2


def test_suppress_proportions_rejects_already_suppressed_and_small_n() -> None:
    hidden = Proportion(count=None, n=100, rate=None, ci=None, suppressed=True)
    with pytest.raises(ValueError, match="already suppressed"):
        suppress_proportions({"a": hidden, "b": proportion(50, 100)}, min_cell_count=K)
    with pytest.raises(ValueError, match=r"proportions\['b'\]: n = 4"):
        suppress_proportions({"a": proportion(50, 100), "b": proportion(2, 4)}, min_cell_count=K)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=6),
    st.sampled_from([1, 5, 11]),
)
def test_suppress_proportions_property(pairs: list[tuple[int, int]], k: int) -> None:
    props = {f"level{i}": proportion(min(a, b), max(a, b)) for i, (a, b) in enumerate(pairs)}
    props = {key: p for key, p in props.items() if not 1 <= p.n < k}
    out = suppress_proportions(props, min_cell_count=k)
    counts = {key: p.count for key, p in props.items()}
    complements = {key: p.n - p.count for key, p in props.items()}
    published_counts = {key: p.count for key, p in out.items()}
    published_complements = {key: (None if p.suppressed else p.n - p.count) for key, p in out.items()}
    _vector_attack(counts, published_counts, k)
    _vector_attack(complements, published_complements, k)
    for key, p in out.items():
        if p.suppressed:
            assert (p.count, p.rate, p.ci) == (None, None, None) and p.n == props[key].n
        else:
            assert p == props[key]


# --------------------------------------------------------------------------- chains and joint families
@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6), st.integers(0, 60), st.sampled_from([1, 5, 11]))
def test_safe_chain_property_every_revealed_difference_is_safe(drops: list[int], top: int, k: int) -> None:
    """Published chain values (with top above and 0 below) differ by 0 or >= k; a small top hides all."""
    counts, level = {}, top
    for i, d in enumerate(drops):  # a non-increasing chain under top
        level = max(level - d, 0)
        counts[str(i)] = level
    shown = safe_chain(top, counts, min_cell_count=k)
    if 1 <= top < k:
        assert shown == frozenset()
        return
    chain = [top, *(counts[key] for key in counts if key in shown), 0]
    assert all(not 1 <= a - b < k for a, b in zip(chain, chain[1:], strict=False)), (chain, counts)
    assert all(not 1 <= counts[key] < k for key in shown)


def test_safe_chain_small_top_hides_everything_instead_of_failing() -> None:
    assert safe_chain(5, {"1": 0, "2": 0}, min_cell_count=K) == frozenset()
    assert safe_chain(5, {"1": 5, "2": 3}, min_cell_count=K) == frozenset()
    assert safe_chain(0, {"1": 0}, min_cell_count=K) == frozenset({"1"})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=6),
    st.sampled_from([1, 5, 11]),
)
def test_hide_jointly_property_attacker_learns_no_small_count(pairs: list[tuple[int, int]], k: int) -> None:
    """Levels hidden at once in every vector: each vector alone passes the vector attacker."""
    met = {f"level{i}": a + b for i, (a, b) in enumerate(pairs)}
    completers = {f"level{i}": a for i, (a, _) in enumerate(pairs)}
    non_completers = {key: met[key] - completers[key] for key in met}
    hidden = hide_jointly([met, completers, non_completers], min_cell_count=k)
    for vector in (met, completers, non_completers):
        _vector_attack(vector, {key: (None if key in hidden else v) for key, v in vector.items()}, k)


# --------------------------------------------------------------------------- matrices
def test_attacker_recovers_naive_primary_suppression() -> None:
    # sanity check of the attacker: hiding only the small cell is undone by the row total
    ranges = attacker_ranges([[30, None], [40, 50]], [33, 90], [70, 53])
    assert ranges == {(0, 1): (3, 3)}
    # and the row/column rule alone is not enough: a cell bridging two hidden 2 x 2 blocks is pinned
    pub: list[list[int | None]] = [
        [None, None, None, 20, 20],
        [None, None, 20, 20, 20],
        [20, 20, None, None, 20],
        [20, 20, None, None, 20],
    ]
    full = np.array([[30, 30, 5, 20, 20], [30, 30, 20, 20, 20], [20, 20, 30, 30, 20], [20, 20, 30, 30, 20]])
    masked = [[v if pub[i][j] is not None else None for j, v in enumerate(row)] for i, row in enumerate(full.tolist())]
    ranges = attacker_ranges(masked, [int(v) for v in full.sum(axis=1)], [int(v) for v in full.sum(axis=0)])
    assert ranges[(0, 2)] == (5, 5)  # every row/column has >= 2 hidden cells, yet the 5 is exact
    protected = assert_protected(full, K)
    assert ("r0", "c2") in protected.suppressed


def test_suppress_matrix_row_and_column_subtraction() -> None:
    values = np.array([[40, 4, 30], [25, 35, 45], [20, 50, 60]])
    res = assert_protected(values, K)
    assert res.primary == frozenset({("r0", "c1")})
    # complements: the smallest cell of row r0 (30), of column c1 (35), then column c2 needs a
    # partner for the 30 (45 < 60); row r1 then holds two hidden cells: a closed 2 x 2 cycle
    assert _published(res) == [[40, None, None], [25, None, None], [20, 50, 60]]
    ranges = attacker_ranges(_published(res), [74, 105, 130], [85, 89, 135])
    assert ranges[(0, 1)] == (0, 34)  # the 4 could be anything from 0 to 34


def test_suppress_matrix_audit_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by random search: the row/column rules alone leave cells (1, 3) = 5 and (1, 4) = 1
    # in a hidden block whose largest feasible value is 6, so the attacker knows both are small.
    values = np.array([[0, 12, 20, 7, 10], [6, 10, 19, 5, 1], [0, 0, 11, 9, 7], [7, 6, 21, 12, 17]])
    row_tot, col_tot = list(values.sum(axis=1)), list(values.sum(axis=0))
    with monkeypatch.context() as mp:
        mp.setattr(privacy_matrix, "_cell_range", lambda cell, suppressed, values: (0, 10**9))  # no audit
        rules_only = suppress_matrix(_matrix(values), min_cell_count=K)
    ranges = attacker_ranges(_published(rules_only), row_tot, col_tot)
    assert ranges[(1, 3)] == (0, 6) and ranges[(1, 4)] == (0, 6)
    res = assert_protected(values, K)
    assert len(res.suppressed) > len(rules_only.suppressed)


def test_suppress_matrix_shape_order_and_k1() -> None:
    counts = {"burnout": {"burnout": 17, "engaged": 3}, "engaged": {"burnout": 0, "engaged": 40}}
    res = suppress_matrix(counts, min_cell_count=1)
    assert res.counts == counts and res.suppressed == frozenset() and res.primary == frozenset()
    res = suppress_matrix(counts, min_cell_count=K)
    assert res.to_json() == res.counts
    assert list(res.counts) == ["burnout", "engaged"]
    assert list(res.counts["burnout"]) == ["burnout", "engaged"]
    assert ("burnout", "engaged") in res.primary


def test_suppress_matrix_is_deterministic() -> None:
    values = np.array([[12, 12, 3, 12], [12, 12, 12, 12], [12, 12, 12, 12]])
    first = suppress_matrix(_matrix(values), min_cell_count=K)
    assert all(suppress_matrix(_matrix(values), min_cell_count=K) == first for _ in range(3))
    # ties broken by key order: the first 12 in row r0 and in column c2
    assert ("r0", "c0") in first.suppressed and ("r1", "c2") in first.suppressed


def test_suppress_matrix_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="must have exactly the columns"):
        suppress_matrix({"a": {"x": 1, "y": 2}, "b": {"x": 3}}, min_cell_count=K)
    with pytest.raises(ValueError, match="non-negative int"):
        suppress_matrix({"a": {"x": -1}}, min_cell_count=K)


_cells = st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 60))


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.integers(2, 5).flatmap(
            lambda c: st.lists(st.lists(_cells, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    ),
    st.sampled_from([1, 5, 11]),
)
def test_suppress_matrix_property_attacker_cannot_pin_small_cells(rows: list[list[int]], k: int) -> None:
    values = np.array(rows, dtype=np.int64)
    res = assert_protected(values, k)
    if k == 1:
        assert res.suppressed == frozenset()


# --------------------------------------------------------------------------- the publication layer
def test_publisher_least_loss_complements() -> None:
    """Issue 12 point 11: complements are the cheapest cells: never-published residuals, then
    unknown/other levels, then the smallest count; never a large level when those protect."""
    pub = privacy.Publisher(min_cell_count=K)
    # reliable change: deteriorated 4 is protected by "neither" (never published), not by improved 181
    assert pub.protect({"improved": 181, "deteriorated": 4, "neither": 210}, free=("neither",)) == {"deteriorated", "neither"}
    # a small level is protected by an unknown level before a smaller real one
    assert pub.protect({"a": 60, "b": 30, "c": 5, "unknown": 45}) == {"c", "unknown"}
    fam = pub.family({"improved": 181, "deteriorated": 4, "neither": 210}, 395, free=("neither",))
    assert fam["improved"]["count"] == 181 and fam["deteriorated"]["hidden"] == "small"
    # published: improved and n; deteriorated + neither = 214 is all the attacker learns


def test_publisher_reasons_and_tally() -> None:
    pub = privacy.Publisher(min_cell_count=K)
    assert pub.prop(3, 395)["hidden"] == "small" and pub.prop(3, 395)["n"] == 395
    assert pub.prop(390, 395)["hidden"] == "complement"
    assert pub.prop(40, 7) == {"count": None, "n": None, "rate": None, "ci": None, "suppressed": True, "hidden": "small"}
    assert pub.prop(40, 395, n_published=False)["n"] is None
    assert pub.withheld_test("chi-square")["p"] is None
    assert pub.summary()["hidden"] == {"small": 3, "complement": 2, "statistic": 0, "test": 1}


# --------------------------------------------------------------------------- global recoding
def test_plan_merges_merges_only_a_small_residual_and_into_the_largest_level() -> None:
    from burnout.privacy import merged_label, plan_merges

    pops = {
        "threshold_met": {"sublingual": 1156, "subcutaneous": 486, "unknown": 25},
        "completers": {"sublingual": 285, "subcutaneous": 108, "unknown": 2},
        "non_completers": {"sublingual": 871, "subcutaneous": 378, "unknown": 23},
    }
    # small among the completers only: merged everywhere, into the largest threshold-met level
    assert plan_merges(pops, min_cell_count=11) == {"unknown": "sublingual"}
    assert plan_merges(pops, min_cell_count=11, into="subcutaneous") == {"unknown": "subcutaneous"}
    assert plan_merges(pops, min_cell_count=11, into="oral") == {"unknown": "sublingual"}  # absent: the default
    assert plan_merges(pops, min_cell_count=2) == {}  # 2 is not small with k = 2
    zero = {name: dict(p, unknown=0) for name, p in pops.items()}
    assert plan_merges(zero, min_cell_count=11) == {}  # nothing to protect
    only = {"completers": {"unknown": 3}}
    assert plan_merges(only, min_cell_count=11) == {}  # no real level to merge into
    # the residuals are added up: 5 + 8 = 13 >= 11 protects itself (suppression handles each)
    both = {"completers": {"female": 200, "male": 150, "other": 5, "unknown": 8}}
    assert plan_merges(both, min_cell_count=11) == {}
    assert merged_label("sublingual", ["unknown"]) == "Sublingual or not recorded"
    assert merged_label("burnout", ["unknown", "other"]) == "Burnout, other or not recorded"


def test_recode_adds_residual_levels_into_their_target_everywhere() -> None:
    from burnout.measures import Attrition, Measures
    from burnout.results.recode import recode

    completion = {"sex": {"female": (224, 880), "male": (164, 730), "other": (3, 12), "unknown": (4, 20)}}
    subgroups = {
        "sex": {
            "female": {"n": 224, "exhaustion": 131},
            "male": {"n": 164, "exhaustion": 88},
            "other": {"n": 3, "exhaustion": 1},
            "unknown": {"n": 4, "exhaustion": 1},
        }
    }
    binary = {"completers": {"female": (224, 388)}, "non_completers": {"female": (656, 1222)}}
    attrition = Attrition(continuous={}, binary=binary, reach={}, completion_by_subgroup=completion)
    fields = {f: None for f in Measures.__dataclass_fields__}
    m = Measures(**fields | {"threshold_met": 1642, "completers": 395, "subgroups": subgroups, "attrition": attrition})
    out = recode(m, {"sex": {"other": "female", "unknown": "female"}})
    assert out.subgroups["sex"] == {"female": {"n": 231, "exhaustion": 133}, "male": {"n": 164, "exhaustion": 88}}
    assert out.attrition.completion_by_subgroup["sex"] == {"female": (231, 912), "male": (164, 730)}
    # Table 1's female row counts the merged level over the whole group (395 - 388 = 7 residual)
    assert out.attrition.binary["completers"]["female"] == (231, 395)
    assert out.attrition.binary["non_completers"]["female"] == (656 + 1247 - 1222, 1247)
    into_male = recode(m, {"sex": {"other": "male", "unknown": "male"}})
    assert into_male.attrition.binary["completers"]["female"] == (224, 395)
