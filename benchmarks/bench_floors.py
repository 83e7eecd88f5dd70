"""The two numerical stages against the library forms of the same work (issue 15).

Usage: python benchmarks/bench_floors.py COHORT [--reference-imputations R] [--triples K] [--write-readme]

Runs the analysis of COHORT (a folder or a duckdb:/// store) once in this process, with
the helper process off, recording what it hands to the two stages whose cost does not
fall with the relational work: multiple imputation (``impute_responses``: the sampled
threshold-met patients' scores and covariates) and the no-change model
(``expected_below_threshold``: the completers' distinct baseline triples). Then times
each in this process, the helper process off (numpy's BLAS may still use a second thread):

1. burnout's multiple imputation (m and sweeps as the plan says), against statsmodels'
   ``MICEData`` (chained equations with predictive mean matching, as many donors as the plan)
   on the same matrix: R imputations' worth of its sweeps, scaled to m (it is slow);
2. burnout's no-change integrals for the plan's reliabilities, against scipy's public
   ``multivariate_normal.cdf`` (the same quasi-Monte Carlo integral: a Python driver
   around a Cython inner loop) on K of the triples, scaled to all; the K probabilities
   must be equal bit for bit. burnout's call is the analysis's second (its lattice and
   random shifts already cached), as in an analysis, which computes three of them.

statsmodels draws its own random numbers and sweeps one long chain instead of m short
ones, so its imputations differ; what is compared is the cost of the same number of
regressions and donor matches on the same data. These are the costs of slower forms
of the work, so upper bounds for a floor, not the floor: no compiled form was written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HEADING = "## The numerical stages against library forms (issue 15)"


def _capture(source: str) -> dict[str, Any]:
    """Run the analysis once, keeping the arguments of the two stages' first calls."""
    os.environ["BURNOUT_HELPER"] = "0"
    import burnout.measures.imputation as imputation_module
    import burnout.results.no_change as no_change_module
    from burnout.analysis import analyze

    got: dict[str, Any] = {}

    def keep(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            got.setdefault(name, (args, kwargs))
            return real(*args, **kwargs)

        return call

    imputation_module.impute_responses = keep("mi", imputation_module.impute_responses)  # type: ignore[method-assign]
    no_change_module.expected_below_threshold = keep("no_change", no_change_module.expected_below_threshold)  # type: ignore[method-assign]
    t0 = time.perf_counter()
    analyze(source)
    got["analysis_seconds"] = time.perf_counter() - t0
    return got


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _imputation(args: tuple[Any, ...], kwargs: dict[str, Any], reference_imputations: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    from statsmodels.imputation.mice import MICEData

    from burnout.stats import impute_responses

    ours, _ = _timed(lambda: impute_responses(*args, **kwargs))
    scores, covariates = args[0], args[1]
    n, s, t = scores.shape
    flat = scores.reshape(n, s * t) / kwargs.get("scale", 1)
    frame = pd.DataFrame(flat, columns=[f"y{i}" for i in range(s * t)])
    cov = covariates[:, covariates.std(axis=0) > 0]
    for i in range(cov.shape[1]):
        frame[f"c{i}"] = cov[:, i]
    m, sweeps = kwargs["imputations"], kwargs["iterations"]
    data = MICEData(frame, k_pmm=kwargs.get("donors", 5))
    with warnings.catch_warnings():  # it keeps predictors constant on a column's observed rows (burnout drops them)
        warnings.simplefilter("ignore")
        theirs, _ = _timed(lambda: [data.update_all(sweeps) for _ in range(reference_imputations)])
    incomplete = int(np.isnan(flat).any(axis=0).sum())
    return {
        "rows": n,
        "incomplete_columns": incomplete,
        "m": m,
        "donors": kwargs.get("donors", 5),
        "sweeps": sweeps,
        "visits": m * sweeps * incomplete,
        "burnout_s": ours,
        "statsmodels_s": theirs * m / reference_imputations,
        "statsmodels_measured": f"{reference_imputations} imputations' sweeps in {theirs:.1f} s",
    }


def _no_change(args: tuple[Any, ...], kwargs: dict[str, Any], triples: int) -> dict[str, Any]:
    import math

    import numpy as np
    from scipy import stats

    from burnout.stats.no_change import _QMC_SEED, _box_probabilities, expected_below_threshold

    baselines, model = args
    ours, _ = _timed(lambda: expected_below_threshold(baselines, model, **kwargs))
    points = list(baselines)
    pick = np.random.default_rng(1).choice(len(points), size=min(triples, len(points)), replace=False)
    sample = [points[i] for i in sorted(pick)]
    lower = np.array([kwargs["exhaustion_min"], -math.inf, kwargs["efficacy_max"]])
    upper = np.array([math.inf, kwargs["cynicism_min"], math.inf])
    means = [model.conditional_mean(x) for x in sample]

    def public() -> list[float]:
        return [
            float(
                stats.multivariate_normal.cdf(
                    upper, mean=m, cov=model.residual, lower_limit=lower, rng=np.random.default_rng(_QMC_SEED)
                )
            )
            for m in means
        ]

    theirs, expected = _timed(public)
    same = _box_probabilities(model.residual, means, lower=lower, upper=upper) == expected
    return {
        "triples": len(points),
        "burnout_s": ours,
        "scipy_s": theirs * len(points) / len(sample),
        "scipy_measured": f"{len(sample)} triples in {theirs:.1f} s",
        "same_bits": same,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cohort")
    ap.add_argument("--reference-imputations", type=int, default=5, help="statsmodels imputations timed (default 5)")
    ap.add_argument("--triples", type=int, default=300, help="triples timed with scipy's public cdf (default 300)")
    ap.add_argument(
        "--write-readme", action="store_true", help=f"put the numbers into benchmarks/README.md under {HEADING!r}"
    )
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    got = _capture(args.cohort)
    if "mi" not in got or "no_change" not in got:
        print(
            "the analysis ran neither multiple imputation nor the no-change model: nothing to compare", file=sys.stderr
        )
        return 1
    mi = _imputation(*got["mi"], args.reference_imputations)
    nc = _no_change(*got["no_change"], args.triples)
    if not nc["same_bits"]:
        print("scipy's public cdf gave other probabilities than burnout's: the comparison is void", file=sys.stderr)
        return 1
    lines = [
        f"| multiple imputation ({mi['rows']:,} rows, m = {mi['m']}, {mi['sweeps']} sweeps, {mi['visits']:,} "
        f"regressions and donor matches) | {mi['burnout_s']:.1f} | statsmodels `MICEData` (PMM, {mi['donors']} donors): "
        f"{mi['statsmodels_s']:.1f} ({mi['statsmodels_measured']}) | {mi['statsmodels_s'] / mi['burnout_s']:.1f}x |",
        f"| no-change model, plan reliabilities ({nc['triples']:,} trivariate integrals) | {nc['burnout_s']:.1f} | "
        f"scipy `multivariate_normal.cdf`: {nc['scipy_s']:.1f} ({nc['scipy_measured']}, equal bits) | "
        f"{nc['scipy_s'] / nc['burnout_s']:.1f}x |",
    ]
    text = "\n".join(
        [
            HEADING,
            "",
            f"`python benchmarks/bench_floors.py {args.cohort} --reference-imputations {args.reference_imputations} "
            f"--triples {args.triples}` (the helper process off; load {load:.1f} at the start; "
            f"the whole analysis took {got['analysis_seconds']:.1f} s in that process). Library times for the whole "
            "stage are scaled from the part timed, shown in brackets.",
            "",
            "| stage | burnout (s) | the library form of the same work (s) | library / burnout |",
            "|---|---:|---|---:|",
            *lines,
        ]
    )
    print(text)
    if args.write_readme:
        sys.path.insert(0, str(HERE))
        from bench_common import replace_section

        replace_section(HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
