"""Statistics from aggregates: the estimates stage.

The engine (``measures.py``) reduces the cohort to counts, sums, sums of squares
and cross-products; the functions here turn those aggregates into estimates,
intervals and tests. Nothing here sees a patient row.

Every function is pure, takes its options keyword-only and returns a frozen
dataclass (or a tuple of floats). Nothing is rounded: rounding is for display.

Exactness
---------
Scores are integers in units of ``1 / instrument.SCALE`` point, so the engine's
sums and sums of squares are exact integers (DuckDB sums BIGINT into HUGEINT).
Moment-based formulas such as ``SS - S**2 / n`` are evaluated here in exact
rational arithmetic (:class:`fractions.Fraction`), so there is no cancellation
at all when the inputs are integers: pass integer aggregates in units together
with ``scale=`` and let the function convert to points at the end. A float input
is converted to the exact rational it represents, so only its own rounding
(not the subtraction) limits the result; for float data prefer the engine's
centred sum of squares (``centered_ss=``).

Validation
----------
``tests/stats/test_<module>.py`` checks each function against an independent reference
(statsmodels / scipy on raw simulated data, brute-force enumeration, or a hand
application of the textbook formula), with the tolerance written in each test.
"""

from burnout.stats.contingency import heterogeneity
from burnout.stats.imputation import ImputationSummary, impute_responses
from burnout.stats.inference import (
    Equivalence,
    RegressionToMean,
    cohen_d_av,
    expected_response_without_change,
    paired_tost,
    regression_to_mean,
)
from burnout.stats.means import (
    EFFECT_SIZE_BOUNDS,
    EffectSizeLabel,
    MeanSummary,
    PairedChange,
    effect_size_label,
    mean_summary,
    paired_change,
)
from burnout.stats.mixed import PatternStats, RandomInterceptModel
from burnout.stats.mmrm import MMRM, Contrast
from burnout.stats.paired_tests import HypothesisTest, cochran_q, holm, mcnemar
from burnout.stats.pmm import match_donors
from burnout.stats.pooling import PooledEstimate, PooledProportion, pool_proportions, rubin_pool
from burnout.stats.proportions import (
    Interval,
    Proportion,
    clopper_pearson_interval,
    newcombe_difference,
    proportion,
    rule_of_three,
    wilson_interval,
)
from burnout.stats.regression import LinearFit, ols_from_moments
from burnout.stats.reliability import (
    Reliability,
    cronbach_alpha,
    rci_critical_change,
    rci_se_diff,
    reliable_change_index,
)

__all__ = [
    "EFFECT_SIZE_BOUNDS",
    "Contrast",
    "EffectSizeLabel",
    "Equivalence",
    "HypothesisTest",
    "Interval",
    "ImputationSummary",
    "LinearFit",
    "MMRM",
    "MeanSummary",
    "PairedChange",
    "PatternStats",
    "PooledEstimate",
    "PooledProportion",
    "Proportion",
    "RandomInterceptModel",
    "RegressionToMean",
    "Reliability",
    "clopper_pearson_interval",
    "cochran_q",
    "cohen_d_av",
    "cronbach_alpha",
    "effect_size_label",
    "expected_response_without_change",
    "heterogeneity",
    "holm",
    "impute_responses",
    "match_donors",
    "mcnemar",
    "mean_summary",
    "newcombe_difference",
    "ols_from_moments",
    "paired_change",
    "paired_tost",
    "pool_proportions",
    "proportion",
    "rci_critical_change",
    "rci_se_diff",
    "regression_to_mean",
    "reliable_change_index",
    "rubin_pool",
    "rule_of_three",
    "wilson_interval",
]
