"""Issue #13: every public estimator in burnout.stats names its formula's source, author and year.

An estimator is any public function or class in ``burnout.stats.__all__`` or in a public
module's ``__all__``, except the frozen dataclasses that hold results (and inputs) and the
helpers listed in ``NOT_ESTIMATORS`` with the reason. So a new public function fails here
until its docstring cites where its formula comes from (or it is listed, with a reason).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import burnout.stats

# An author and a year as the docstrings write them: "Wilson EB (1927)", "Barnard-Rubin (1999)",
# "(Lakens 2013, eq. 10)", "Hanley & Lippman-Hand 1983", "Mancuso JP (2008)".
CITATION = re.compile(r"\b[A-Z][A-Za-z'-]+(?: [A-Z]{1,3})?(?: et al\.?)?,? \(?(?:1[89]|20)\d\d\b")

NOT_ESTIMATORS: dict[str, str] = {
    "pattern_stats_from_long": "reshapes long data into the PatternStats the models take; estimates nothing",
}


def _public_modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.iter_modules(burnout.stats.__path__) if not m.name.startswith("_")]
    return [burnout.stats, *(importlib.import_module(f"burnout.stats.{name}") for name in sorted(names))]


def _estimators() -> dict[str, object]:
    found: dict[str, object] = {}
    for module in _public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants and Literal aliases
            if dataclasses.is_dataclass(obj) or name in NOT_ESTIMATORS:
                continue
            found[f"{obj.__module__}.{name}"] = obj
    return found


ESTIMATORS = _estimators()


def test_the_estimators_are_found() -> None:
    """Guards the discovery itself: the well-known estimators are among those checked."""
    short = {key.rsplit(".", 1)[1] for key in ESTIMATORS}
    for name in ("wilson_interval", "cochran_q", "mcnemar", "holm", "heterogeneity", "rubin_pool", "MMRM"):
        assert name in short
    assert len(ESTIMATORS) >= 30


def test_the_exceptions_still_exist() -> None:
    public = {name for module in _public_modules() for name in module.__all__}
    assert set(NOT_ESTIMATORS) <= public


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_docstring_cites_author_and_year(name: str) -> None:
    doc = inspect.getdoc(ESTIMATORS[name]) or ""
    assert CITATION.search(doc), f"{name}: the docstring names no author and year for its formula (issue #13)"


@pytest.mark.parametrize(
    "text",
    [
        "- Wilson EB (1927). Probable inference.",
        "the Barnard-Rubin (1999) small-sample df",
        "Cohen's d_av (Lakens 2013, eq. 10).",
        "(Hanley & Lippman-Hand 1983, JAMA 249:1743)",
        "- Mallinckrodt CH, Lane PW, Schnell D, Peng Y, Mancuso JP (2008). Recommendations",
        "- Student (1908). The probable error of a mean.",
    ],
)
def test_citation_pattern_accepts_the_house_forms(text: str) -> None:
    assert CITATION.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mean, SD and t confidence interval from (n, sum, sum of squares).",
        "Validated against statsmodels to 1e-12 with 20000 draws.",
        "Draws 200,000 tables; seed 2024.",
    ],
)
def test_citation_pattern_rejects_text_without_one(text: str) -> None:
    assert not CITATION.search(text)
