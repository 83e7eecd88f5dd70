"""Response compared across the subscales: Cochran's Q and pairwise McNemar tests with Holm's
adjustment (``comparison``). (results.comparison)."""

from __future__ import annotations

from typing import Any

from burnout import stats as est
from burnout.instrument import SUBSCALES
from burnout.results._common import BuildContext

__all__ = ["comparison_results"]


def comparison_results(ctx: BuildContext, subscales: dict[str, Any], responders: dict[str, Any]) -> dict[str, Any]:
    """``comparison``: Q over the response patterns and McNemar per pair of subscales, each
    withheld when what it is made of (or could give back) is hidden in ``subscales``/``responders``."""
    m, pub = ctx.m, ctx.pub
    q = (
        est.cochran_q(
            {tuple(pattern): n for pattern, n in m.response_patterns.items()}
        )  # any-length keys, as typed there
        if m.response_patterns
        else est.HypothesisTest(test="not-testable", statistic=None, df=None, p=None, n=0)
    )
    # With every margin published, McNemar's statistics (each pair's discordant cells) and
    # responders.all_3 rebuild the whole 2x2x2 table of response patterns: a test on a table
    # with a small cell is withheld, so a small pattern withholds Q and every McNemar.
    small_pattern = any(pub.small(n) for n in m.response_patterns.values())
    mcn = _mcnemar_pairs(ctx, subscales, small_pattern=small_pattern)
    holm = est.holm([None if hidden else r.p for _, _, r, hidden in mcn])
    # Cochran's Q is a function of its margins only (each subscale's responders and the
    # responder chain): with one of them hidden, Q pins it (issue 12), so Q is withheld.
    q_hidden = (
        not ctx.comp_pub
        or small_pattern
        or any(subscales[s]["response"]["suppressed"] for s in SUBSCALES)
        or any(p["suppressed"] for p in responders.values())
    )
    return {
        "cochran_q": (
            pub.withheld_test(q.test) if q_hidden else {"statistic": q.statistic, "df": q.df, "p": q.p, "test": q.test}
        ),
        "mcnemar": {
            f"{a}|{b}": (
                {"statistic": None, "df": None, "p": None, "p_holm": None, "test": r.test, "suppressed": True}
                if hidden
                else {"statistic": r.statistic, "df": r.df, "p": r.p, "p_holm": ph, "test": r.test, "suppressed": False}
            )
            for (a, b, r, hidden), ph in zip(mcn, holm, strict=True)
        },
    }


def _mcnemar_pairs(
    ctx: BuildContext, subscales: dict[str, Any], *, small_pattern: bool
) -> list[tuple[str, str, est.HypothesisTest, bool]]:
    """(a, b, McNemar's test, withheld) for each pair of subscales, from the discordant patterns;
    all withheld when ``small_pattern`` (a response pattern in 1..k-1)."""
    patterns = ctx.m.response_patterns
    out: list[tuple[str, str, est.HypothesisTest, bool]] = []
    for i, a in enumerate(SUBSCALES):
        for b in SUBSCALES[i + 1 :]:
            ia, ib = SUBSCALES.index(a), SUBSCALES.index(b)
            only_a = sum(n for pat, n in patterns.items() if pat[ia] and not pat[ib])
            only_b = sum(n for pat, n in patterns.items() if pat[ib] and not pat[ia])
            r = est.mcnemar(only_a, only_b)
            # The discordant counts are not published, but with the margins they could be
            # solved back from the statistic: withhold the test when either is small.
            # So are the margins (each subscale's responders): withhold it when one is hidden.
            hidden = (
                small_pattern
                or ctx.pub.small(only_a)
                or ctx.pub.small(only_b)
                or subscales[a]["response"]["suppressed"]
                or subscales[b]["response"]["suppressed"]
            )
            if hidden:
                ctx.pub.note("test")
            out.append((a, b, r, hidden))
    return out
