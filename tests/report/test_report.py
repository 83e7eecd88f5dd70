"""The report: privacy, self-containment, determinism, synthetic labelling, table snapshots.

Two inputs: a hand-built results tree (``resultsfactory.make_results``) whose hidden
counts are known, so that a leak can be detected, and the real pipeline's output on
a simulated cohort (``analyze(..., out=...)``), so that the report users get is the
one tested. Table snapshots use the hand-built tree (stable under recalibration of
the simulator); regenerate with ``BURNOUT_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from burnout.report import write_report
from burnout.report.figures import FIGURE_KEYS
from resultsfactory import SECRET_VALUES, make_results, pipeline_results

SNAPSHOTS = Path(__file__).parent / "snapshots"
MARK = "suppressed (<11)"
UPDATE = os.environ.get("BURNOUT_UPDATE_SNAPSHOTS") == "1"


# ---------------------------------------------------------------------------- helpers


class _Text(HTMLParser):
    """Visible text, comments and every attribute value of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.comments: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def parse(html: str) -> _Text:
    p = _Text()
    p.feed(html)
    return p


_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?!\w)")


def numbers(text: str) -> list[str]:
    """Whole number tokens: "7" in "7/395" or "(7)", never inside "17", "0.7", "PHQ-9a" or a hex hash."""
    text = re.sub(r"\b(?:Table|Figure) \d+\b", " ", text)
    return _NUMBER.findall(text)


def svg_comments(svg: str) -> list[str]:
    """matplotlib writes each drawn string as a comment before its glyph paths."""
    return [c.strip() for c in re.findall(r"<!--(.*?)-->", svg, flags=re.S)]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Comment lines (there must be none) and rows, each hidden count's reason put back in its (empty) cell."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = [line for line in lines if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("".join(line for line in lines if not line.startswith("#")))))
    for row in rows:
        for item in filter(None, (row.get("hidden") or "").split("; ")):
            column, _, reason = item.partition(": ")
            assert row[column] == "", (path.name, column, row[column])  # a hidden count is an empty cell
            row[column] = reason
    return comments, rows


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Any], Path]:
    tree, secrets = make_results()
    out = tmp_path_factory.mktemp("factory")
    write_report(tree, out)
    return tree, secrets, out


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real data (synthetic = False), no optional sections."""
    tree, _ = make_results(synthetic=False, extensions=False, table1=False)
    out = tmp_path_factory.mktemp("plain")
    write_report(tree, out)
    return out


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    return pipeline_results(tmp_path_factory.mktemp("pipeline"))


# ------------------------------------------------------------------------------ tests


def test_outputs_against_the_issue_list(factory: tuple[Any, Any, Path]) -> None:
    """report.html, every figure as SVG and PNG, every table as CSV."""
    _, _, out = factory
    assert (out / "report.html").is_file()
    for key in FIGURE_KEYS:
        assert (out / "figures" / f"{key}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert png_chunks((out / "figures" / f"{key}.png").read_bytes())[0] == b"IHDR"
    tables = {p.stem for p in (out / "tables").glob("*.csv")}
    assert {
        "analysis_plan",
        "participant_flow",
        "baseline_characteristics",
        "trajectories",
        "effect_sizes",
        "response",
        "response_comparison",
        "below_threshold",
        "profiles",
        "profile_transitions",
        "burnout_profile_resolution",
        "side_effects",
        "subgroups",
        "subgroup_heterogeneity",
        "beyond_completers",
        "itt_mmrm",
        "itt_mmrm_tipping",
        "itt_mixed_model",
        "completion_by_subgroup",
        "reach",
        "phq9",
        "reliable_change",
        "reliability",
    } <= tables
    assert "itt_response" not in tables  # folded into beyond_completers


def test_sections_in_order_against_the_issue_list(factory: tuple[Any, Any, Path]) -> None:
    _, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids == [
        "summary",
        "plan",
        "methods",
        "flow",
        "baseline",
        "scores",
        "effect-sizes",
        "response",
        "below-threshold",
        "profiles",
        "severe-profile",
        "safety",
        "subgroups",
        "beyond-completers",
        "phq9",
        "reliable-change",
        "regression-to-mean",
        "limitations",
    ]
    assert re.search(r'<section id="beyond-completers"><h2>Beyond completers</h2>', html)


def test_optional_sections_absent_against_a_tree_without_them(plain: Path) -> None:
    html = (plain / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert (
        "baseline" not in ids and "beyond-completers" not in ids and "phq9" not in ids and "reliable-change" not in ids
    )
    assert ids[0] == "summary" and ids[-1] == "limitations"
    assert not (plain / "tables" / "beyond_completers.csv").exists()
    assert not (plain / "figures" / "reach.svg").exists()


def test_hidden_counts_absent_against_known_secrets(factory: tuple[Any, Any, Path]) -> None:
    """The true values behind every suppressed cell (7 and 8, used nowhere else) appear in no output.

    The fixture's suppression is deliberately not complementary (a hidden cell in a
    row whose total is shown), so a renderer that subtracted would print the value.
    The methods section is excluded: it lists MBI-GS item numbers (7, 8), not counts.
    """
    _, secrets, out = factory
    assert {s.value for s in secrets} == set(SECRET_VALUES)
    assert find_leaks(out, {str(v) for v in SECRET_VALUES}) == []


def test_leak_finder_against_planted_counts(tmp_path: Path) -> None:
    """The leak finder of the test above does find a hidden value once it is displayed."""
    tree, _ = make_results()
    tree["flow"]["exclusions"]["no_baseline"] = 7  # the flow figure and CSV now show 7
    tree["profiles"]["transitions"]["counts"]["burnout"]["ineffective"] = 8  # the heat map and CSV show 8
    tree["warnings"].append(
        "sessions.csv: held_on goes back in time for 12 patients; the first on line 40, patient 'PX-4242'"
    )
    write_report(tree, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "PX-4242" not in html and "patient [id withheld]" in html  # a validation warning's id is withheld
    where = {w for w, _ in find_leaks(tmp_path, {"7", "8"})}
    assert {
        "report.html: inline SVG",
        "flow.svg",
        "transitions.svg",
        "participant_flow.csv",
        "profile_transitions.csv",
    } <= where


def find_leaks(out: Path, forbidden: set[str]) -> list[tuple[str, Any]]:
    """Where a forbidden whole number is displayed: page text, drawn SVG strings, text attributes, CSV cells."""
    leaks: list[tuple[str, Any]] = []
    html = (out / "report.html").read_text(encoding="utf-8")
    page = parse(re.sub(r'<section id="methods">.*?</section>', "", html, flags=re.S))
    leaks += [("report.html: text", n) for n in numbers(" ".join(page.text)) if n in forbidden]
    leaks += [("report.html: inline SVG", c) for c in page.comments if set(numbers(c)) & forbidden]
    # attributes that carry text or data (ids, glyph names and geometry are structural)
    carriers = [
        (t, n, v)
        for t, n, v in page.attrs
        if n.startswith(("data-", "aria-")) or n in ("title", "alt", "value", "content", "label")
    ]
    assert any(n == "aria-label" for _, n, _ in carriers)
    leaks += [("report.html: attribute", (t, n, v)) for t, n, v in carriers if set(numbers(v)) & forbidden]
    for svg in sorted((out / "figures").glob("*.svg")):
        leaks += [(svg.name, c) for c in svg_comments(svg.read_text(encoding="utf-8")) if set(numbers(c)) & forbidden]
    for path in sorted((out / "tables").glob("*.csv")):
        _, rows = read_csv(path)
        leaks += [(path.name, (k, v)) for row in rows for k, v in row.items() if v in forbidden]
    return leaks


def test_hidden_counts_marked_against_their_positions(factory: tuple[Any, Any, Path]) -> None:
    """Each suppressed cell reads "suppressed (<11)" where its value would be."""
    _, _, out = factory
    _, rows = read_csv(out / "tables" / "profile_transitions.csv")
    by_from = {r["from_profile"]: r for r in rows}
    assert by_from["burnout"]["to_ineffective"] == MARK
    assert by_from["ineffective"]["to_engaged"] == MARK
    assert by_from["engaged"]["to_disengaged"] == MARK
    assert by_from["burnout"]["to_burnout"] == "17"
    _, rows = read_csv(out / "tables" / "profiles.csv")
    cell = next(r for r in rows if r["timepoint"] == "2" and r["profile"] == "ineffective")
    assert cell["count"] == MARK and cell["rate"] == "" and cell["ci_low"] == ""
    _, rows = read_csv(out / "tables" / "participant_flow.csv")
    steps = {r["step"]: r["count"] for r in rows}
    assert steps["excluded_no_baseline"] == MARK
    assert steps["baseline_scored"].startswith("not shown")  # patients - hidden: never derived
    assert steps["received_all_sessions"] == str(1642 - 987)  # from shown counts only
    _, rows = read_csv(out / "tables" / "subgroups.csv")
    unknown_age = [r for r in rows if r["variable"] == "age_band" and r["level"] == "unknown"]
    assert unknown_age and all(r["count"] == MARK and r["n"] == MARK for r in unknown_age)
    svg = (out / "figures" / "transitions.svg").read_text(encoding="utf-8")
    assert svg_comments(svg).count("&lt;11") == 3
    flow = svg_comments((out / "figures" / "flow.svg").read_text(encoding="utf-8"))
    assert any(MARK in c.replace("&lt;", "<") for c in flow)


def test_self_contained_against_url_attributes(factory: tuple[Any, Any, Path], plain: Path) -> None:
    """No src/href/url() leaves the page; no script, link, import or font file; a CSP forbids fetching."""
    for out in (factory[2], plain):
        html = (out / "report.html").read_text(encoding="utf-8")
        page = parse(html)
        for tag, name, value in page.attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
                assert value.startswith("#"), f"<{tag} {name}={value!r}> is not a fragment"
        for value in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html):
            assert value.startswith("#") or value.startswith("data:"), value
        assert not re.search(r"(?:src|href)\s*=\s*['\"]?\s*(?:https?:)?//", html, flags=re.I)
        lowered = html.lower()
        for banned in ("<script", "<link", "@import", "@font-face", "<iframe", "<img", "fonts.googleapis"):
            assert banned not in lowered, banned
        assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_deterministic_against_a_second_render(factory: tuple[Any, Any, Path], tmp_path: Path) -> None:
    tree, _, out = factory
    write_report(tree, tmp_path)
    first = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (out / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_png_metadata_against_no_text_chunks(factory: tuple[Any, Any, Path]) -> None:
    """No timestamp (tIME) and no text chunks (software, dates) in the PNGs."""
    for png in (factory[2] / "figures").glob("*.png"):
        kinds = png_chunks(png.read_bytes())
        assert not {b"tIME", b"tEXt", b"iTXt", b"zTXt"} & set(kinds), (png.name, kinds)
        assert b"pHYs" in kinds, png.name  # the print resolution travels with the file


def test_svg_metadata_against_no_date(factory: tuple[Any, Any, Path]) -> None:
    for svg in (factory[2] / "figures").glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        assert "<dc:date>" not in text and "font-family" not in text and "@font-face" not in text


def test_synthetic_labelled_against_every_output(factory: tuple[Any, Any, Path]) -> None:
    _, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", html).group(1)  # type: ignore[union-attr]
    assert "SYNTHETIC" in title
    assert 'class="banner"' in html
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html, flags=re.S)
    assert len(captions) == len(FIGURE_KEYS)
    assert all("SYNTHETIC DATA" in c for c in captions)
    for svg in (out / "figures").glob("*.svg"):
        assert "SYNTHETIC DATA" in svg_comments(svg.read_text(encoding="utf-8")), svg.name
    for path in (out / "tables").glob("*.csv"):
        comments, rows = read_csv(path)
        assert not comments and rows and all(r["synthetic_data"] == "true" for r in rows), path.name


def test_real_data_not_labelled_synthetic(plain: Path) -> None:
    assert "SYNTHETIC" not in (plain / "report.html").read_text(encoding="utf-8")
    for path in [*(plain / "figures").glob("*.svg"), *(plain / "tables").glob("*.csv")]:
        assert "SYNTHETIC" not in path.read_text(encoding="utf-8"), path.name
    for path in (plain / "tables").glob("*.csv"):
        assert all(r["synthetic_data"] == "false" for r in read_csv(path)[1]), path.name


def test_rounding_at_display_only_against_the_tree(factory: tuple[Any, Any, Path]) -> None:
    """Percent to 1 decimal and means to 2 on the page; the CSV keeps every digit."""
    tree, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    text = " ".join(parse(re.sub(r'<section id="plan">.*?</section>', "", html, flags=re.S)).text)
    assert "55.4%" in text and "219/395" in text  # 219/395 = 0.55443...
    assert "5.57 (0.52)" in text
    long_decimals = [n for n in numbers(text) if re.fullmatch(r"\d+\.\d{4,}", n)]
    assert not long_decimals, long_decimals[:5]
    _, rows = read_csv(out / "tables" / "response.csv")
    exh = next(r for r in rows if r["outcome"] == "exhaustion")
    assert float(exh["rate"]) == tree["subscales"]["exhaustion"]["response"]["rate"]
    assert exh["rate"] == repr(219 / 395)


@pytest.mark.parametrize("name", sorted(p.stem for p in SNAPSHOTS.glob("*.csv")) or ["<none>"])
def test_table_snapshot_against_committed_csv(factory: tuple[Any, Any, Path], name: str) -> None:
    """Each CSV equals its committed snapshot (BURNOUT_UPDATE_SNAPSHOTS=1 rewrites them)."""
    if name == "<none>":
        pytest.fail("no snapshots committed: run with BURNOUT_UPDATE_SNAPSHOTS=1")
    rendered = factory[2] / "tables" / f"{name}.csv"
    if not rendered.exists():
        pytest.fail(f"{name}.csv is no longer rendered: run with BURNOUT_UPDATE_SNAPSHOTS=1 to drop its snapshot")
    got = rendered.read_text(encoding="utf-8")
    if UPDATE:
        (SNAPSHOTS / f"{name}.csv").write_text(got, encoding="utf-8", newline="\n")
    assert got == (SNAPSHOTS / f"{name}.csv").read_text(encoding="utf-8")


def test_snapshot_set_against_rendered_tables(factory: tuple[Any, Any, Path]) -> None:
    rendered = {p.name: p.read_text(encoding="utf-8") for p in (factory[2] / "tables").glob("*.csv")}
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        for old in SNAPSHOTS.glob("*.csv"):
            old.unlink()
        for name, text in rendered.items():
            (SNAPSHOTS / name).write_text(text, encoding="utf-8", newline="\n")
    assert sorted(rendered) == sorted(p.name for p in SNAPSHOTS.glob("*.csv"))


def test_sparse_tree_renders_against_missing_and_suppressed_sections(tmp_path: Path) -> None:
    """Sections whose keys are absent are left out; a fully suppressed outcome is marked, not drawn."""
    tree, _ = make_results(extensions=False, table1=False)
    for key in ("comparison", "side_effects", "safety", "subgroups", "below_threshold"):
        del tree[key]
    # a hidden denominator (8 in the Burnout profile at baseline) must not show through its Proportions' n
    tree["profiles"]["burnout_at_baseline"] = None
    tree["profiles"]["burnout_resolved"] = {"count": None, "n": 8, "rate": None, "ci": None, "suppressed": True}
    tree["profiles"]["burnout_to_engaged"] = {"count": 0, "n": 8, "rate": 0.0, "ci": [0.0, 0.324], "suppressed": False}
    del tree["flow"]["exclusions"]
    for s in ("exhaustion", "cynicism", "professional_efficacy"):
        del tree["subscales"][s]["plateau"]
        tree["subscales"][s]["response"] = {"count": None, "n": 395, "rate": None, "ci": None, "suppressed": True}
    write_report(tree, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids == [
        "summary",
        "plan",
        "methods",
        "flow",
        "scores",
        "effect-sizes",
        "response",
        "profiles",
        "severe-profile",
        "limitations",
    ]
    assert sorted(p.stem for p in (tmp_path / "figures").glob("*.svg")) == [
        "flow",
        "profiles",
        "response",
        "trajectories",
        "transitions",
    ]
    _, rows = read_csv(tmp_path / "tables" / "burnout_profile_resolution.csv")
    assert all(r["count"] == MARK and r["n"] in ("", MARK) and r["rate"] == "" for r in rows), rows
    severe = re.search(r'<section id="severe-profile">.*?</section>', html, flags=re.S).group(0)  # type: ignore[union-attr]
    summary = re.search(r'<section id="summary">.*?</section>', html, flags=re.S).group(0)  # type: ignore[union-attr]
    for part in (severe, summary):
        assert "8" not in numbers(" ".join(parse(part).text))
    _, rows = read_csv(tmp_path / "tables" / "response.csv")
    assert [r["count"] for r in rows[:3]] == [MARK] * 3
    assert (
        svg_comments((tmp_path / "figures" / "response.svg").read_text(encoding="utf-8")).count("suppressed (&lt;11)")
        == 3
    )


def test_write_report_rejects_a_non_tree(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="results must be a results tree"):
        write_report({"schema_version": 1}, tmp_path)


# ------------------------------------------------------------------- beyond completers


def section(html: str, sid: str) -> str:
    found = re.search(rf'<section id="{sid}">.*?</section>', html, flags=re.S)
    assert found, sid
    return found.group(0)


class _Grid(HTMLParser):
    """The visible text of one table: header cells and body rows (group rows as one cell)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self._skip += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        elif tag == "span" and ("class", "detail") in attrs and self._cell is not None:
            self._cell.append(" / ")  # the detail line under the estimate
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if not self._skip and self._cell is not None:
            self._cell.append(data)


def table_grid(html: str, key: str) -> list[list[str]]:
    found = re.search(rf'<div class="table-wrap[^"]*" id="table-{key}">.*?</table>', html, flags=re.S)
    assert found, key
    grid = _Grid()
    grid.feed(found.group(0))
    return [row for row in grid.rows if any(row)]


def test_beyond_completers_table_against_the_tree(factory: tuple[Any, Any, Path]) -> None:
    """Completers | worst case | multiple imputation | MMRM | random intercept, with their denominators, from the tree."""
    tree, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    grid = table_grid(section(html, "beyond-completers"), "beyond_completers")
    # two header rows: the completers column spans both; the four ITT columns sit under one spanner
    assert grid[1] == ["Outcome", "Completers (n = 395)", "Everyone who met the threshold (intention to treat)"]
    assert grid[2] == [
        "Worst case (n = 1,642)",
        "Multiple imputation (n = 1,642)",
        "MMRM, primary (n = 1,642)",
        "Random intercept, sensitivity",
    ]
    rows = {r[0]: r for r in grid if len(r) == 6}
    groups = [r[0] for r in grid[3:] if len(r) == 1]
    assert groups[:2] == [
        "Response (\u2265 1.0 points, first to last assessment)",
        "Mean after the last session (change from baseline)",
    ]
    # 219/395 responders among completers, 219/1,642 in the worst case, the pooled MI rate 49.0% +- 4.5
    exh = [r for r in grid if len(r) == 6 and r[0] == "Exhaustion"]
    assert exh[0][1:] == [
        "55.4% (50.5\u201360.3) / 219/395",
        "13.3% (11.8\u201315.1) / 219/1,642",
        "49.0% (44.5\u201353.5)",
        "\u2014a",
        "\u2014a",
    ]
    assert rows["At least 1 subscale"][1:3] == [
        "69.6% (64.9\u201373.9) / 275/395",
        "16.7% (15.0\u201318.6) / 275/1,642",
    ]
    assert rows["At least 1 subscale"][3] == "66.0% (61.5\u201370.5)"
    # means after session 6: completers 4.09 (change -1.48), mixed model 4.24 (change -1.33) with both CIs beneath
    m = tree["itt"]["mixed_model"]["exhaustion"]["timepoints"]["6"]
    assert exh[1][1].startswith("4.09 (\u22121.48) / 3.95 to 4.23 (")
    assert exh[1][2:4] == ["\u2014b", "\u2014b"]
    assert exh[1][5] == f"4.24 (\u22121.33) / {m['ci'][0]:.2f} to {m['ci'][1]:.2f} (\u22121.39 to \u22121.27)"
    u = tree["itt"]["mmrm"]["exhaustion"]["timepoints"]["6"]
    mean, change = u["mean"], u["change"]
    assert exh[1][4] == (
        f"{mean['estimate']:.2f} (\u2212{-change['estimate']:.2f}) / {mean['ci'][0]:.2f} to {mean['ci'][1]:.2f} "
        f"(\u2212{-change['ci'][0]:.2f} to \u2212{-change['ci'][1]:.2f})"
    )
    notes = " ".join(parse(section(html, "beyond-completers")).text)
    assert "a The mixed models estimate mean scores, not responder rates." in " ".join(notes.split())
    assert "(m = 50)" in notes


def test_beyond_completers_display_snapshot_against_committed_text(factory: tuple[Any, Any, Path]) -> None:
    """The side-by-side table as displayed (cell texts, row by row) equals its committed snapshot."""
    html = (factory[2] / "report.html").read_text(encoding="utf-8")
    got = "\n".join(" | ".join(row) for row in table_grid(html, "beyond_completers")) + "\n"
    path = SNAPSHOTS / "beyond_completers.display.txt"
    if UPDATE:
        path.write_text(got, encoding="utf-8", newline="\n")
    assert got == path.read_text(encoding="utf-8")


def test_beyond_completers_csv_against_the_tree(factory: tuple[Any, Any, Path]) -> None:
    """The CSV keeps every digit: rates, pooled rates with their imputations, model means and changes."""
    tree, _, out = factory
    comments, rows = read_csv(out / "tables" / "beyond_completers.csv")
    assert comments == [] and {r["synthetic_data"] for r in rows} == {"true"}
    by = {(r["measure"], r["outcome"], r["analysis"]): r for r in rows}
    assert by[("response", "exhaustion", "worst_case")]["estimate"] == repr(219 / 1642)
    mi = by[("response", "at_least_1", "multiple_imputation")]
    assert (mi["estimate"], mi["n"], mi["imputations"], mi["count"]) == ("0.66", "1642", "50", "")
    mm = by[("mean", "cynicism", "mixed_model")]
    t6 = tree["itt"]["mixed_model"]["cynicism"]["timepoints"]["6"]
    assert float(mm["estimate"]) == t6["mean"] and float(mm["change"]) == t6["change"] and mm["n"] == "1642"
    assert ("response", "exhaustion", "mixed_model") not in by  # not estimated: no row rather than a blank one
    u = by[("mean", "cynicism", "mmrm")]
    t6 = tree["itt"]["mmrm"]["cynicism"]["timepoints"]["6"]
    assert float(u["estimate"]) == t6["mean"]["estimate"] and float(u["change"]) == t6["change"]["estimate"]
    assert float(u["change_ci_low"]) == t6["change"]["ci"][0] and u["n"] == "1642"


def test_beyond_completers_hides_suppressed_cells(tmp_path: Path) -> None:
    """A hidden worst-case count, pooled rate or reach step reads as suppressed in the table, CSV and figure."""
    tree, _ = make_results()
    tree["itt"]["worst_case"]["professional_efficacy"]["response"] = {
        "count": None,
        "n": 1642,
        "rate": None,
        "ci": None,
        "suppressed": True,
    }
    tree["itt"]["multiple_imputation"]["responders"]["at_least_1"] = {
        "rate": None,
        "ci": None,
        "imputations": 50,
        "suppressed": True,
    }
    tree["responders"]["at_least_1"] = {"count": None, "n": 395, "rate": None, "ci": None, "suppressed": True}
    write_report(tree, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows: dict[str, list[str]] = {}
    for r in table_grid(html, "beyond_completers"):
        if len(r) == 6:
            rows.setdefault(r[0], r)  # the response rows come first
    assert rows["Professional Efficacy"][2] == MARK
    assert rows["At least 1 subscale"][1] == MARK and rows["At least 1 subscale"][3] == MARK
    assert rows["Professional Efficacy"][1].startswith("26.3% (")  # the visible cells are untouched
    beyond = section(html, "beyond-completers")
    table = re.search(r'<div class="table-wrap[^"]*" id="table-beyond_completers">.*?</table>', beyond, flags=re.S)
    assert table
    hidden_cells = re.findall(r'<td [^>]*?(style="[^"]*")?[^>]*>suppressed \(&lt;11\)</td>', table.group(0))
    # greyed, as elsewhere
    assert len(hidden_cells) == 3 and all("font-style: italic" in style for style in hidden_cells)
    text = " ".join(parse(beyond).text)
    for value in ("104/1,642", "6.3%", "66.0%", "275/395"):  # the hidden cells' own values
        assert not re.search(rf"(?<![\d.,]){re.escape(value)}", text), value
    _, csv_rows = read_csv(tmp_path / "tables" / "beyond_completers.csv")
    by = {(r["measure"], r["outcome"], r["analysis"]): r for r in csv_rows}
    wc = by[("response", "professional_efficacy", "worst_case")]
    assert (wc["count"], wc["n"], wc["estimate"], wc["ci_low"]) == (MARK, "1642", "", "")
    mi = by[("response", "at_least_1", "multiple_imputation")]
    assert (mi["count"], mi["estimate"], mi["ci_low"], mi["ci_high"]) == (MARK, "", "", "")
    summary = " ".join(parse(section(html, "summary")).text)
    assert "66.0%" not in summary and MARK in summary


def test_reach_figure_against_the_tree(factory: tuple[Any, Any, Path]) -> None:
    """How far patients got: a step curve of attendance with Wilson intervals, in the page and in figures/."""
    tree, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    beyond = section(html, "beyond-completers")
    assert '<figure class="narrow" id="figure-reach">' in beyond and "How far patients got" in beyond
    svg = (out / "figures" / "reach.svg").read_text(encoding="utf-8")
    drawn = svg_comments(svg)
    for k in ("2", "3", "4", "5", "6"):  # each visible step is labelled with its percentage
        assert f"{100 * tree['attrition']['reach'][k]['rate']:.1f}" in drawn, k
    assert "Completers 24.1%" in drawn and "Sessions attended (at least)" in drawn
    png = (out / "figures" / "reach.png").read_bytes()
    assert struct.unpack(">II", png[16:24]) == (700, 510)  # 3.5 x 2.55 in at 200 dpi
    _, rows = read_csv(out / "tables" / "reach.csv")
    assert [r["sessions_at_least"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[1]["count"] == "1180" and rows[1]["n"] == "1642" and rows[1]["rate"] == repr(1180 / 1642)


def test_reach_suppressed_step_hidden_against_its_value(factory: tuple[Any, Any, Path]) -> None:
    """Session 1 is suppressed (8 attended none): drawn as a hatched band, its share (99.5%) nowhere."""
    _, _, out = factory
    drawn = svg_comments((out / "figures" / "reach.svg").read_text(encoding="utf-8"))
    assert "Suppressed (&lt;11)" in drawn
    assert not [c for c in drawn if "99.5" in c or "1634" in c or "1,634" in c]
    _, rows = read_csv(out / "tables" / "reach.csv")
    assert (rows[0]["count"], rows[0]["rate"], rows[0]["ci_low"]) == (MARK, "", "")
    html = (out / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    shown = numbers(" ".join(page.text)) + [n for c in page.comments for n in numbers(c)]
    assert not {"99.5", "1,634", "1634"} & set(shown)


def test_completion_by_subgroup_against_the_tree(factory: tuple[Any, Any, Path]) -> None:
    _, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    grid = table_grid(section(html, "beyond-completers"), "completion_by_subgroup")
    rows = {r[0]: r for r in grid if len(r) == 4}
    assert rows["35\u201349"][1:] == ["170/790", "21.5%", "18.8\u201324.5"]  # Wilson: 0.1883-0.2450
    assert rows["Unknown"][1:3] == ["11/32", "34.4%"]  # sex "unknown": shown
    # age band "unknown" (8 of 12 completed, so 4 did not) is hidden whole, with 18-34 beside it so
    # that neither can be recovered from the age-band totals
    hidden = [r for r in grid if len(r) == 4 and r[1].startswith(MARK)]
    assert hidden == [["18\u201334", MARK, "\u2013", "\u2013"], ["Unknown", MARK, "\u2013", "\u2013"]]
    _, csv_rows = read_csv(out / "tables" / "completion_by_subgroup.csv")
    unknown_age = next(r for r in csv_rows if r["variable"] == "age_band" and r["level"] == "unknown")
    assert (unknown_age["count"], unknown_age["rate"]) == (MARK, "") and unknown_age["n"] in (MARK, "")


def test_beyond_completers_prose_against_the_tree(factory: tuple[Any, Any, Path]) -> None:
    """The mixed model's assumptions and the imputation method are stated; Table 1 is pointed to, not repeated."""
    tree, _, out = factory
    html = (out / "report.html").read_text(encoding="utf-8")
    beyond = " ".join(" ".join(parse(section(html, "beyond-completers")).text).split())
    assert tree["itt"]["mixed_model"]["assumptions"].rstrip(".") in beyond
    assert "Chained equations, Bayesian linear regression imputation" in beyond
    assert "Exhaustion 3,763 assessments of 1,642 patients" in beyond
    assert '<a href="#table-baseline_characteristics">Table 1</a>' in section(html, "beyond-completers")
    assert "The largest absolute difference was 0.14 (age), at or above the 0.1" in beyond
    assert html.count('id="table-baseline_characteristics"') == 1  # Table 1 stays where it is
    summary = " ".join(" ".join(parse(section(html, "summary")).text).split())
    assert (
        "responders on at least 1 subscale were 16.7% (275/1,642; 95% CI 15.0\u201318.6) if every missing response is counted "
        "as a non-response (worst case: observed responses kept) and 66.0% (95% CI 61.5\u201370.5) with multiple imputation"
        in summary
    )
    # the MMRM's change to session 6 and its tipping point, from the tree (factory: -1.39 +- 1.963 x 0.05, tip 1.6)
    assert tree["itt"]["mmrm"]["assumptions"].rstrip(".") in beyond
    assert tree["itt"]["mmrm_tipping"]["method"].rstrip(".") in beyond
    assert (
        "Mixed model for repeated measures. Change to after session 6 among all who met the threshold, assuming scores "
        "are missing at random: Exhaustion \u22121.39 (95% CI \u22121.49 to \u22121.29, tipping point 1.60 points)"
        in summary
    )


def test_gt_html_against_both_frame_backends(factory: tuple[Any, Any, Path]) -> None:
    """great_tables renders the same HTML from a polars and a pandas frame (the report uses polars when installed)."""
    import functools

    from burnout.report import tables as report_tables
    from burnout.report.format import Ctx
    from burnout.report.tables import render

    pytest.importorskip("polars")
    tree, _, _ = factory
    ctx = Ctx(tree)
    tables = report_tables.build_tables(ctx)
    rendered = {}
    for backend in ("polars", "pandas"):
        frame = functools.partial(render._frame, backend=backend)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(render, "_frame", frame)
            rendered[backend] = [render.to_gt_html(tables[k], ctx, 3) for k in ("beyond_completers", "subgroups")]
    assert rendered["polars"] == rendered["pandas"]


# ------------------------------------------------------------------ the real pipeline


def _mark(cell: dict[str, Any], small: str) -> str:
    """The truthful label of a hidden Proportion (results.json ``hidden``)."""
    return "hidden to protect a small cell" if cell.get("hidden") == "complement" else small


@pytest.mark.slow
def test_pipeline_report_hides_every_suppressed_cell(pipeline: tuple[dict[str, Any], Path, Path]) -> None:
    """On the real output: each null count in the tree reads as suppressed in its CSV."""
    tree, _, out = pipeline
    k = tree["protocol"]["privacy"]["min_cell_count"]
    mark = f"suppressed (<{k})"
    _, rows = read_csv(out / "tables" / "profile_transitions.csv")
    reasons = tree["profiles"]["transitions"]["hidden"]
    for row in rows:
        for to, v in tree["profiles"]["transitions"]["counts"][row["from_profile"]].items():
            truthful = _mark({"hidden": reasons.get(f"{row['from_profile']}.{to}")}, mark)
            assert row[f"to_{to}"] == (truthful if v is None else str(v))
    _, rows = read_csv(out / "tables" / "profiles.csv")
    for row in rows:
        cell = tree["profiles"][row["timepoint"]][row["profile"]]
        assert row["count"] == (_mark(cell, mark) if cell["count"] is None else str(cell["count"]))
        if cell["count"] is None:
            assert row["rate"] == row["ci_low"] == row["ci_high"] == ""
    _, rows = read_csv(out / "tables" / "subgroups.csv")
    for row in rows:
        entry = tree["subgroups"][row["variable"]][row["level"]]
        cell = entry[row["outcome"]]
        assert row["count"] == (_mark(cell, mark) if cell["count"] is None else str(cell["count"]))
        # issue 16: Newcombe difference, blank beside a hidden cell
        diff = entry["difference_from_rest"][row["outcome"]]
        assert row["difference_from_rest"] == ("" if diff["estimate"] is None else repr(diff["estimate"]))
        assert row["label"] == entry["label"]
    _, rows = read_csv(out / "tables" / "participant_flow.csv")
    steps = {r["step"]: r["count"] for r in rows}
    for reason, v in tree["flow"]["exclusions"].items():
        assert steps[f"excluded_{reason}"] == (mark if v is None else str(v))


@pytest.mark.slow
def test_pipeline_report_holds_no_patient_id(pipeline: tuple[dict[str, Any], Path, Path]) -> None:
    _, cohort_dir, out = pipeline
    with (cohort_dir / "patients.csv").open(encoding="utf-8") as f:
        ids = [row["patient_id"] for row in csv.DictReader(f)]
    assert ids
    outputs = [out / "report.html", *(out / "figures").glob("*.svg"), *(out / "tables").glob("*.csv")]
    for path in outputs:
        text = path.read_text(encoding="utf-8")
        tokens = set(re.findall(r"[\w-]+", text))
        found = [i for i in ids if i in tokens]
        assert not found, f"{path.name} holds patient ids {found[:3]}"


@pytest.mark.slow
def test_pipeline_report_complete_against_the_tree(pipeline: tuple[dict[str, Any], Path, Path]) -> None:
    tree, _, out = pipeline
    html = (out / "report.html").read_text(encoding="utf-8")
    assert tree["protocol"]["sha256"] in html
    assert "SYNTHETIC" in re.search(r"<title>(.*?)</title>", html).group(1)  # type: ignore[union-attr]
    for key in FIGURE_KEYS:
        assert (out / "figures" / f"{key}.svg").is_file() and (out / "figures" / f"{key}.png").is_file()
    for path in (out / "tables").glob("*.csv"):
        assert {r["synthetic_data"] for r in read_csv(path)[1]} == {"true"}, path.name


# --------------------------------------------------- plain, safe outputs (the report issue)


def _count_like(column: str) -> bool:
    return column in ("count", "n") or column.endswith(("_count", "_n")) or column.startswith("to_")


def test_csv_tables_read_by_pandas_with_numeric_counts(factory: tuple[Any, Any, Path]) -> None:
    """Every CSV reads with ``pandas.read_csv(path)`` and no options; its count columns are numbers, a hidden one empty.

    The fixture hides counts in profile_transitions, profiles, subgroups, participant_flow,
    reach and completion_by_subgroup, so a word in a count column would make it ``object``.
    """
    import pandas as pd

    _, _, out = factory
    paths = sorted((out / "tables").glob("*.csv"))
    count_columns = 0
    for path in paths:
        df = pd.read_csv(path)
        assert (
            df.columns[0] == "synthetic_data" and df["synthetic_data"].dtype == bool and df["synthetic_data"].all()
        ), path.name
        for column in [c for c in df.columns if _count_like(c)]:
            count_columns += 1
            assert pd.api.types.is_numeric_dtype(df[column]), (path.name, column, df[column].tolist())
    assert count_columns >= 20
    flow = pd.read_csv(out / "tables" / "participant_flow.csv").set_index("step")
    assert pd.isna(flow.loc["excluded_no_baseline", "count"])
    assert flow.loc["excluded_no_baseline", "hidden"] == MARK.join(["count: ", ""])
    assert flow.loc["completers", "count"] == 395 and flow.loc["completers", "rate"] == 395 / 1642
    transitions = pd.read_csv(out / "tables" / "profile_transitions.csv").set_index("from_profile")
    assert pd.isna(transitions.loc["burnout", "to_ineffective"]) and transitions.loc["burnout", "to_burnout"] == 17
    assert transitions.loc["burnout", "hidden"] == f"to_ineffective: {MARK}"


FORMULAS = ['=hyperlink("http://example.invalid","x")', "=1+1", "@sum(1)", "+cmd|' /c calc'!a0", "-2+3", "\tx", "\rx"]


def _with_pathways(levels: list[str], **protocol: Any) -> dict[str, Any]:
    """The factory tree with its three program pathways renamed (subgroups and completion by subgroup)."""
    tree, _ = make_results()
    for section_ in (tree["subgroups"], tree["attrition"]["completion_by_subgroup"]):
        old = section_["pathway"]
        names = [k for k in old if k != "heterogeneity"]
        renamed = {new: old[name] for new, name in zip(levels, names * len(levels), strict=False)}
        section_["pathway"] = renamed | ({"heterogeneity": old["heterogeneity"]} if "heterogeneity" in old else {})
    tree["protocol"] |= protocol
    return tree


def test_csv_formula_cells_neutralised_against_owasp(tmp_path: Path) -> None:
    """Text cells starting with = + - @ tab or CR get a leading ' (OWASP); numbers, negative ones too, stay numbers."""
    import pandas as pd

    title = '=HYPERLINK("http://example.invalid","report")'
    write_report(_with_pathways(FORMULAS, title=title), tmp_path)
    for path in sorted((tmp_path / "tables").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                for cell in row:
                    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                        float(cell)  # only a plain number may start so
    sub = pd.read_csv(tmp_path / "tables" / "subgroups.csv", keep_default_na=False)
    # tab and CR are written as their escapes (as on the page), so they lead no cell and pandas keeps the rows whole
    assert {f"'{f}" for f in FORMULAS[:5]} | {"\\x09x", "\\x0dx"} <= set(sub["level"])
    comp = pd.read_csv(tmp_path / "tables" / "completion_by_subgroup.csv", keep_default_na=False)
    assert {f"'{f}" for f in FORMULAS[:3]} <= set(comp["level"])
    plan = pd.read_csv(tmp_path / "tables" / "analysis_plan.csv", keep_default_na=False)
    assert plan.set_index("setting").loc["title", "value"] == "'" + title
    assert plan.set_index("setting").loc["professional_efficacy", "value"] == "-0.5"  # a number, not a formula
    effects = pd.read_csv(tmp_path / "tables" / "effect_sizes.csv")
    assert (
        effects["dz"].dtype == float and (effects["dz"] < 0).sum() == 6
    )  # Exhaustion and Cynicism fall: negative numbers


def test_user_text_literal_in_svg_html_and_csv(tmp_path: Path) -> None:
    """A NUL byte, HTML markup or matplotlib math in a pathway name is shown as typed and leaves every file well formed."""
    import xml.etree.ElementTree as ET

    levels = ["a\x00b", "<b>bold</b> & <script>x</script>", "$x^2$"]
    write_report(_with_pathways(levels), tmp_path)
    for svg in sorted((tmp_path / "figures").glob("*.svg")):
        ET.fromstring(svg.read_bytes())  # NUL or an unescaped "<" would raise
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "\x00" not in html and "<b>bold</b>" not in html and "<script" not in html.lower()
    text = " ".join(parse(html).text)
    assert "a\\x00b" in text and "<b>bold</b> & <script>x</script>" in text  # the literal text, visible
    for fig in (svg for svg in html.split("<svg")[1:]):
        assert "\x00" not in fig
    drawn = svg_comments((tmp_path / "figures" / "subgroups.svg").read_text(encoding="utf-8"))
    assert any(c.startswith("\\$x^2\\$ (") or c.startswith("$x^2$ (") for c in drawn), [c for c in drawn if "x" in c][
        :5
    ]
    assert not any("x^2" in c and "$" not in c for c in drawn)  # not typeset as math (which drops the dollars)


def _wilson_upper_for_zero(n: int) -> float:
    from scipy import stats

    z = stats.norm.ppf(0.975)
    return z * z / (n + z * z)  # Wilson's upper bound at 0 events (Wilson 1927; Newcombe 1998, method 3)


def test_serious_adverse_events_one_unit_against_the_exact_bound(tmp_path: Path) -> None:
    """0 events in 180 sessions of the safety population: per 1,000 sessions, exact CI 0.00-20.27
    (1 - 0.025 ** (1/180), solved by hand), alike in key findings, the table and the terminal."""
    from rich.console import Console

    from burnout.report.terminal import summary_table

    tree, _ = make_results()
    upper = 1 - 0.025 ** (1 / 180)
    assert abs(upper - 0.020286) < 5e-6
    tree["safety"]["serious_adverse_events"]["sessions"] = {
        "count": 0,
        "n": 180,
        "rate": 0.0,
        "ci": [0.0, upper],
        "suppressed": False,
        "interval": "clopper-pearson",
        "rule_of_three": 3 / 180,
    }
    write_report(tree, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    expected = "0 in 180 sessions (0.00 per 1,000 sessions; 95% CI 0.00\u201320.29)"
    summary = " ".join(" ".join(parse(section(html, "summary")).text).split())
    assert f"{expected}." in summary
    assert "of patients (rule of three: at most 0.20%)" in summary  # 3 / 1,500 patients
    rows = {r[0]: r for r in table_grid(section(html, "safety"), "side_effects") if len(r) == 4}
    assert rows["Serious adverse events, per 1,000 sessions delivered"][1:] == [
        "0/180",
        "0.00 per 1,000",
        "0.00\u201320.29 per 1,000",
    ]
    console = Console(width=200, record=True)
    console.print(summary_table(tree))
    text = console.export_text()
    assert expected in text
    responder_rows = [line.split("│")[1].strip() for line in text.splitlines() if "responded on" in line]
    assert responder_rows == [  # not "subscale(s)"
        "responded on at least 1 subscale",
        "responded on at least 2 subscales",
        "responded on all 3 subscales",
    ]


def test_trajectories_axis_shows_the_whole_scale(factory: tuple[Any, Any, Path]) -> None:
    """Figure 2's y axis runs 0-6, the scale its label names, not from 3.5."""
    import matplotlib as mpl

    from burnout.report.figures.outcomes import _trajectories
    from burnout.report.figures.style import RC
    from burnout.report.format import Ctx

    with mpl.rc_context(RC):
        made = _trajectories(Ctx(factory[0]))
    assert made is not None
    ax = made[0].axes[0]
    assert ax.get_ylim() == (0.0, 6.0) and ax.get_ylabel() == "Mean score (0\u20136)"
    assert list(ax.get_yticks()) == [0, 1, 2, 3, 4, 5, 6]


def test_plateau_of_exactly_zero_change_is_said(tmp_path: Path) -> None:
    """No change at all between the last two assessments (no t test: SD 0) reads "yes (no change at all)", not a dash."""
    tree, _ = make_results()
    tree["subscales"]["professional_efficacy"]["plateau"] |= {
        "mean_difference": 0.0,
        "ci": [0.0, 0.0],
        "t": None,
        "df": 394,
        "p": None,
        "plateaued": None,
        "equivalence": None,
    }
    write_report(tree, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = {r[0]: r for r in table_grid(html, "plateau") if len(r) == 5}
    assert rows["Professional Efficacy"][1:] == ["0.00 (0.00 to 0.00)", "\u2013", "\u2013", "yes (no change at all)"]
    # TOST is not testable without spread; the other subscales carry the equivalence verdict
    assert rows["Cynicism"][3].startswith("not shown (margin \u00b10.20)")


def _h1(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html).group(1)  # type: ignore[union-attr]


def test_title_neutral_for_real_data_against_the_plan(
    plain: Path, factory: tuple[Any, Any, Path], tmp_path: Path
) -> None:
    """The demo's title only on synthetic output; real data get a neutral title unless the plan sets its own."""
    from burnout.plan import DEFAULT_TITLE

    assert _h1((factory[2] / "report.html").read_text(encoding="utf-8")) == DEFAULT_TITLE
    real = (plain / "report.html").read_text(encoding="utf-8")
    assert _h1(real) == "Burnout program outcomes" and DEFAULT_TITLE not in re.search(
        r"<title>.*?</title>", real
    ).group(0)  # type: ignore[union-attr]
    tree, _ = make_results(synthetic=False)
    tree["protocol"]["title"] = "St Elsewhere <burnout> clinic"
    write_report(tree, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert _h1(html) == "St Elsewhere &lt;burnout&gt; clinic"
    assert "<title>St Elsewhere &lt;burnout&gt; clinic: outcomes report</title>" in html


def test_published_comparison_labelled_with_tolerances(factory: tuple[Any, Any, Path]) -> None:
    """published-vs-this-run: named columns (no bare "ok"), each row's tolerance in its own unit, pandas-readable."""
    import pandas as pd
    from rich.console import Console

    from burnout.demo import comparison_csv, comparison_table
    from burnout.simulate.published import PUBLISHED, compare

    rows = compare(factory[0])
    df = pd.read_csv(io.StringIO(comparison_csv(rows)))
    assert list(df.columns) == ["synthetic_data", "figure", "published", "this_run", "tolerance", "within_tolerance"]
    assert df["synthetic_data"].all() and df["tolerance"].notna().all()
    by = df.set_index("figure")["tolerance"]
    assert by["completers (analysed)"] == "exact"
    assert by["responded on Exhaustion"] == "\u00b1 3 patients"
    assert by["Exhaustion mean, baseline"] == "\u00b1 0.03 points"
    assert by["side effects after session 2"] == "\u00b1 0.6 percentage points"
    assert len(df) == len(rows) > len(PUBLISHED)
    table = comparison_table(rows)
    headers = [c.header for c in table.columns]
    assert headers == ["figure", "published", "this run", "tolerance", "within tolerance"]
    console = Console(width=200, record=True)
    console.print(table)
    assert "\u00b1 3 patients" in console.export_text()


def test_phq9_adjusted_change_is_descriptive_not_held_at_zero(factory: tuple[Any, Any, Path]) -> None:
    """Issue 16 point 10: the intercept extrapolates an attenuated slope; the report must not say
    the depression change was "held at zero" and must carry the measurement-error caveat."""
    html = (factory[2] / "report.html").read_text(encoding="utf-8")
    text = " ".join(" ".join(parse(section(html, "phq9")).text).split())
    assert "held at zero" not in html and "expected with no change in depression" not in html
    assert "regressed on PHQ-9 change (descriptive)" in text and "attenuates the slope" in text
