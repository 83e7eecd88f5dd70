"""The command line: help texts, exit codes, clean errors, atomic output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from burnout import __version__
from burnout.cli import app
from cohortfactory import mbi_rows, patients_rows, write_cohort

runner = CliRunner()
COMMANDS = ["validate", "analyze", "simulate", "demo", "survey"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert len(result.output.splitlines()) > 4


def test_help_is_fast_because_heavy_modules_load_lazily():
    # Measured in a fresh interpreter: importing the CLI must not import ibis or scipy.
    code = "import sys, burnout.cli; print(any(m.split('.')[0] in ('ibis', 'scipy', 'duckdb', 'matplotlib') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_validate_bad_cohort_exits_2_with_location_and_no_traceback(tmp_path):
    rows = mbi_rows()
    rows[15]["item_3"] = "7"  # data row 16 = line 17
    rows[20]["item_5"] = "4.5"
    folder = write_cohort(tmp_path / "c", mbi_gs=rows)
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    text = result.output
    assert "mbi_gs.csv:17" in text and "'7'" in text and "item_3" in text
    assert "'4.5'" in text
    assert "Traceback" not in text


def test_validate_good_cohort_summarises(tmp_path):
    folder = write_cohort(tmp_path / "c")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "patients" in result.output and "12" in result.output


def test_bad_protocol_exits_2(tmp_path):
    folder = write_cohort(tmp_path / "c")
    plan = tmp_path / "plan.toml"
    plan.write_text("[response]\nmin_chnage = 1.0\n")
    result = runner.invoke(app, ["validate", str(folder), "--protocol", str(plan)])
    assert result.exit_code == 2
    assert "min_chnage" in result.output and "Traceback" not in result.output


def test_analyze_writes_results_and_report(tmp_path):
    folder = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    tree = json.loads((out / "results.json").read_text())
    assert tree["flow"]["patients"] == 12
    assert (out / "report.html").is_file()


def test_analyze_bad_input_writes_nothing_and_keeps_old_output(tmp_path):
    rows = mbi_rows()
    rows[3]["after_session"] = "two"
    folder = write_cohort(tmp_path / "c", mbi_gs=rows)
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temporary folder left behind
    out.mkdir()
    (out / "results.json").write_text("previous")
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert (out / "results.json").read_text() == "previous"


def test_analyze_rejects_unknown_backend(tmp_path):
    result = runner.invoke(app, ["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--backend", "oracle"])
    assert result.exit_code == 2
    assert "duckdb or spark" in result.output


# --------------------------------------------------------------------------- saying it plainly


def test_version():
    from burnout import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"burnout {__version__}"


@pytest.mark.parametrize("command", [[], *([c] for c in [*COMMANDS, "import"])])
def test_help_has_no_type_placeholders(command):
    # survey's --columns pattern is literally ITEM{n}: the one brace the help means
    text = runner.invoke(app, [*command, "--help"]).output.replace("{n}", "")
    for placeholder in ("<bool>", "<str>", "<path>", "<int>", "{source}", "{url}", "{"):
        assert placeholder not in text, f"{placeholder} in `burnout {' '.join(command)} --help`"


def test_validate_of_a_missing_folder_does_not_talk_of_writing_or_rows(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "Nothing was written" not in result.output and "rows above" not in result.output
    assert "Fix the problems above" in result.output


def test_user_text_in_paths_is_printed_literally(tmp_path):
    folder = write_cohort(tmp_path / "c:100:[bold]x[/bold]")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "c:100:[bold]x[/bold]" in "".join(result.output.split())  # the path may wrap
    out = tmp_path / "o:100:[red]"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{out / 'results.json'}" in "".join(result.output.split())
    assert "\U0001f4af" not in result.output  # the emoji ":100:" would become


def test_progress_numbers_every_stage_with_its_time_and_no_source_location(tmp_path):
    folder = write_cohort(tmp_path / "c")
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] + "]" for line in lines] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert all(re.search(r"\(\d+\.\d s\)$", line) for line in lines), lines
    assert ".py:" not in result.output
    quiet = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "o"), "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert not re.search(r"^\[\d/\d\]", quiet.output, re.M)


def test_demo_counts_its_stages_to_the_end(tmp_path, monkeypatch):
    import burnout.simulate as sim

    real = sim.simulate_cohort
    monkeypatch.setattr(sim, "simulate_cohort", lambda *, seed: real(patients=150, seed=seed))  # fast
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    stages = re.findall(r"^\[(\d)/(\d)\]", result.output, re.M)
    assert stages == [(str(i), "5") for i in range(1, 6)]


def test_simulate_says_what_it_wrote_in_words(tmp_path):
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "s"), "--patients", "40"])
    assert result.exit_code == 0, result.output
    assert "<" not in result.output and "SimulatedCohort" not in result.output
    assert "40 patients" in result.output and "SYNTHETIC" in result.output
    words = " ".join(result.output.split())
    assert "synthetic_truth.csv: every patient's full follow-up as simulated" in words
    assert "not cohort data, never read by analyze" in words
    assert (tmp_path / "s" / "synthetic_truth.csv").is_file()


def test_error_messages_print_emoji_codes_literally(tmp_path):
    folder = tmp_path / "export:100:"
    folder.mkdir()  # no cohort files: the error names this folder
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "export:100:" in "".join(result.output.split())
    assert "\U0001f4af" not in result.output


# --------------------------------------------------------------------------- input files (ingest)


def test_cli_max_line_size_reports_then_reads(tmp_path: Path) -> None:
    rows = patients_rows()
    rows[2]["pathway"] = "p" * 5000  # line 4
    folder = write_cohort(tmp_path, patients=rows)
    refused = runner.invoke(app, ["validate", str(folder), "--max-line-size", "1000"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "patients.csv:4" in refused.output and "--max-line-size" in refused.output
    read = runner.invoke(app, ["validate", str(folder), "--max-line-size", "10000"])
    assert read.exit_code == 0, read.output


def test_cli_fifo_exits_2_without_blocking(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path)
    os.mkfifo(folder / "phq9.csv")
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2 and "phq9.csv" in result.output and "named pipe" in result.output


def _run_main(tmp_path: Path, before: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``burnout ARGS`` through ``main()`` in a fresh interpreter, after running ``before``."""
    script = f"import sys\n{before}\nsys.argv = ['burnout', *{list(args)!r}]\nfrom burnout.cli import main\nmain()\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )


def test_exit_keeps_status_output_and_atexit_handlers(tmp_path):
    # main() ends with os._exit to skip the teardown of every module: what the ordinary
    # exit guarantees must still hold
    handler = "import atexit\natexit.register(lambda: print('atexit handler ran'))"
    done = _run_main(tmp_path, handler, "--version")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [f"burnout {__version__}", "atexit handler ran"]

    failed = _run_main(tmp_path, handler, "analyze", str(tmp_path / "absent"), "--out", str(tmp_path / "out"))
    assert failed.returncode == 2
    assert "this folder does not exist" in failed.stderr
    assert failed.stdout == "atexit handler ran\n"
    assert not (tmp_path / "out").exists()


def test_exit_waits_for_a_thread_still_running(tmp_path):
    late = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(1), print('the thread finished', flush=True))).start()"
    )
    done = _run_main(tmp_path, late, "--version")
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == "the thread finished"


_AS_DUCKDB_DOES = (  # the KeyboardInterrupt taken, DuckDB's own error raised in its place
    "    try:\n"
    "        os.kill(os.getpid(), signal.SIGINT)\n"
    "        time.sleep(5)\n"
    "    except KeyboardInterrupt:\n"
    "        raise RuntimeError('Query interrupted') from None\n"
)
_DUCKDB_QUERIES = (  # the real engine: short queries, each a chance for DuckDB to check for Ctrl-C
    "    con = duckdb.connect()\n"
    "    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
    "    while True:\n"
    "        con.execute('SELECT count(*) FROM range(3000000) t(x) WHERE x % 7 = 3').fetchall()\n"
)


@pytest.mark.parametrize("body", [_AS_DUCKDB_DOES, _DUCKDB_QUERIES], ids=["as-duckdb-does", "duckdb-queries"])
def test_ctrl_c_turned_into_duckdbs_error_ends_as_an_interruption(tmp_path, body):
    # DuckDB takes a Ctrl-C during a query and raises RuntimeError("Query interrupted") in
    # place of KeyboardInterrupt: still status 130, no traceback. Not one long query: when
    # the main thread runs its single long task, DuckDB checks for Ctrl-C only after it,
    # and the test hung on a busy machine.
    script = "import os, signal, threading, time, duckdb\nimport burnout.cli\ndef command():\n" + body
    done = _run_main(tmp_path, script + "burnout.cli.app = command")
    assert (done.returncode, done.stderr) == (130, "")


def test_an_error_without_ctrl_c_still_shows_its_traceback(tmp_path):
    failing = (
        "import burnout.cli\ndef command():\n    raise RuntimeError('Query interrupted')\nburnout.cli.app = command"
    )
    done = _run_main(tmp_path, failing)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "RuntimeError: Query interrupted" in done.stderr
