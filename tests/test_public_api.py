"""The public names stay importable from where the README shows them, whatever the package layout."""

import importlib

import burnout


def test_readme_names_resolve_from_the_package_root() -> None:
    from burnout import Analysis, analyze, load_cohort, load_protocol, simulate_cohort

    assert callable(analyze) and callable(load_cohort) and callable(load_protocol) and callable(simulate_cohort)
    assert isinstance(Analysis, type)
    for name in burnout.__all__:
        assert getattr(burnout, name) is not None, name


def test_each_stage_package_exports_what_its_all_lists() -> None:
    for package in ("plan", "ingest", "engines", "measures", "stats", "privacy", "results", "simulate"):
        module = importlib.import_module(f"burnout.{package}")
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"burnout.{package} lists but does not define {missing}"
