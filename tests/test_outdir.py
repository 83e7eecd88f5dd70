"""Output folders: burnout replaces only what it wrote; everything else of the user's is left as it was.

Each refusal is checked through the CLI (exit 2, one line, no traceback) and by
comparing every byte under the folder before and after.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from burnout.cli import app
from cohortfactory import write_cohort

runner = CliRunner()
MANIFEST = ".burnout-manifest.json"
CLI = [sys.executable, "-c", "from burnout.cli import main; main()"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.output
    for w in words:
        assert w in error_lines[0], result.output


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    """A cohort folder made by `burnout simulate` (it carries burnout's manifest)."""
    folder = tmp_path_factory.mktemp("sim") / "C"
    result = runner.invoke(app, ["simulate", "--out", str(folder), "--patients", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return folder


def test_analyze_into_its_own_cohort_folder_leaves_every_file_byte_identical(simulated):
    before = snapshot(simulated)
    result = runner.invoke(app, ["analyze", str(simulated), "--out", str(simulated)])
    assert_refused(result, "cohort folder")
    assert snapshot(simulated) == before


def test_simulated_cohort_with_its_manifest_is_a_valid_cohort(simulated):
    assert (simulated / MANIFEST).is_file()
    result = runner.invoke(app, ["validate", str(simulated)])
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.output and MANIFEST not in result.output


def test_simulate_records_each_files_sha256_and_a_plain_folder_has_none(simulated, tmp_path):
    import hashlib

    from burnout.outdir import simulated_sha256

    written = simulated_sha256(simulated)
    on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in simulated.iterdir() if p.name != MANIFEST}
    assert written == on_disk and "patients.csv" in written
    assert simulated_sha256(write_cohort(tmp_path / "plain")) == {}  # not written by simulate
    assert simulated_sha256(tmp_path / "absent") == {}


def test_analysing_a_simulated_folder_labels_its_outputs_synthetic(simulated, tmp_path):
    # found by a new-user trial: `burnout simulate` then `analyze` published unlabelled results
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(simulated), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["meta"]["synthetic"] is True
    assert "SYNTHETIC DATA" in (out / "report.html").read_text(encoding="utf-8")


def test_out_on_the_parent_of_the_cohort_is_refused(tmp_path):
    cohort = write_cohort(tmp_path / "study" / "cohort")
    (tmp_path / "study" / "notes.docx").write_bytes(b"my notes")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(tmp_path / "study")])
    assert_refused(result, "contains the cohort folder")
    assert snapshot(tmp_path) == before


def test_out_on_a_folder_holding_a_users_document_is_refused(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    mine = tmp_path / "reports"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"two years of work")
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(mine)])
    assert_refused(result, "thesis.docx", "did not write")
    assert snapshot(mine) == {"thesis.docx": b"two years of work"}


def test_out_on_an_existing_file_is_refused_and_the_file_keeps_its_name(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(existing)])
    assert_refused(result, "existing file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "existing.txt"]  # no hidden .old copy
    assert existing.read_text() == "keep me"


def test_out_on_the_current_folder_is_refused(tmp_path, monkeypatch):
    cohort = write_cohort(tmp_path / "c")
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("a,b\n")
    monkeypatch.chdir(work)
    for out in (".", str(tmp_path)):  # the current folder, and a folder containing it
        result = runner.invoke(app, ["analyze", str(cohort), "--out", out])
        assert_refused(result, "current folder")
    assert (work / "data.csv").read_text() == "a,b\n"


def test_root_and_home_are_refused(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for out, why in (("/", "root folder"), (str(home), "home folder")):
        result = runner.invoke(app, ["simulate", "--out", out, "--patients", "5"])
        assert_refused(result, why)
    assert list(home.iterdir()) == []


def test_out_under_a_file_or_in_an_unwritable_system_folder_is_a_clean_error(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    (tmp_path / "f").write_text("x")
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(tmp_path / "f" / "out")])
    assert_refused(result, "is a file")
    result = runner.invoke(app, ["analyze", str(cohort), "--out", "/proc/burnout-out"])
    assert_refused(result, "/proc")


def test_a_bad_out_fails_before_any_work(tmp_path):
    """The demo simulates and analyses for a minute: a bad --out must fail at once."""
    (tmp_path / "existing.txt").write_text("keep me")
    start = time.perf_counter()
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "existing.txt")])
    assert_refused(result, "existing file")
    assert time.perf_counter() - start < 5.0
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "existing.txt")])
    assert_refused(result, "existing file")
    assert (tmp_path / "existing.txt").read_text() == "keep me"


def test_rerun_replaces_burnouts_own_output_and_writes_a_manifest(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    for _ in range(2):
        result = runner.invoke(app, ["analyze", str(cohort), "--out", str(out)])
        assert result.exit_code == 0, result.output
    manifest = json.loads((out / MANIFEST).read_text())
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST)
    assert manifest["tool"] == "burnout" and manifest["files"] == on_disk
    assert "results.json" in on_disk and "report.html" in on_disk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "out"]  # no temporary or old folder left


def test_a_users_file_dropped_into_burnouts_output_is_named_not_deleted(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    assert runner.invoke(app, ["analyze", str(cohort), "--out", str(out)]).exit_code == 0
    (out / "figures" / "my-annotated.png").write_bytes(b"mine")
    before = snapshot(out)
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(out)])
    assert_refused(result, "figures/my-annotated.png")
    assert snapshot(out) == before


def test_a_forged_or_foreign_manifest_does_not_make_a_folder_replaceable(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"tool": "other-tool", "files": ["a.txt"]}))
    (out / "a.txt").write_text("theirs")
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(out)])
    assert_refused(result, "did not write")
    assert (out / "a.txt").read_text() == "theirs"


def test_an_empty_existing_folder_is_written(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "results.json").is_file()


def test_a_replaced_folder_keeps_its_mode_and_a_new_one_gets_mkdirs(tmp_path):
    import stat

    from burnout.outdir import write_output_folder

    def write(folder: Path) -> None:
        (folder / "results.json").write_text("{}\n", encoding="utf-8")

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2751)  # a group's results folder: setgid, group may enter
    write_output_folder(shared, write)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2751
    write_output_folder(shared, write)  # replacing burnout's own output keeps it too
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2751

    old_umask = os.umask(0o027)
    try:
        write_output_folder(tmp_path / "new", write)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o750  # not mkdtemp's private 0700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "shared"]  # no probe left behind


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), ("Permission denied", "permissions")),
        (OSError(errno.ENOSPC, "No space left on device"), ("No space left", "free some disk space")),
    ],
)
def test_write_errors_are_a_clean_message_and_keep_the_old_output(tmp_path, monkeypatch, error, words):
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    assert runner.invoke(app, ["analyze", str(cohort), "--out", str(out)]).exit_code == 0
    before = snapshot(out)

    def failing_report(results, folder):
        raise error

    monkeypatch.setattr("burnout.report.write_report", failing_report)
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(out)])
    assert_refused(result, str(out), *words)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "out"]


def test_an_unreadable_output_folder_is_a_clean_message(tmp_path, monkeypatch):
    """Running as root, permissions cannot be taken away: listing the folder is made to fail."""
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x")
    real_walk = os.walk

    def denied(top, *args, **kwargs):
        if Path(top) == out:
            kwargs["onerror"](PermissionError(errno.EACCES, "Permission denied", str(out)))
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", denied)
    result = runner.invoke(app, ["analyze", str(cohort), "--out", str(out)])
    assert_refused(result, "cannot be read", "Permission denied")


def test_sigkill_mid_write_keeps_the_previous_output_and_a_rerun_cleans_up(tmp_path):
    cohort = write_cohort(tmp_path / "c")
    out = tmp_path / "out"
    # the helper process forced on: a killed run's helper must not outlive it holding the pipes
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "BURNOUT_HELPER": "1"}
    first = subprocess.run([*CLI, "analyze", str(cohort), "--out", str(out), "-q"], env=env, capture_output=True)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)

    # A second run whose report writer announces where it is writing, then hangs: killed there.
    signal_file = tmp_path / "writing-in"
    hang = (
        "import sys, time, pathlib, burnout.report as r\n"
        "real = r.write_report\n"
        "def slow(results, folder):\n"
        "    real(results, folder)\n"
        f"    pathlib.Path({str(signal_file)!r}).write_text(str(folder))\n"
        "    time.sleep(600)\n"
        "r.write_report = slow\n"
        "from burnout.cli import main\n"
        f"sys.argv = ['burnout', 'analyze', {str(cohort)!r}, '--out', {str(out)!r}, '-q']\n"
        "main()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", hang], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached the write"
            time.sleep(0.1)
        half_written = Path(signal_file.read_text())
        assert half_written.is_dir() and (half_written / "results.json").is_file()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(out) == before  # the previous output is intact
    assert half_written.exists()  # the killed run's temporary folder is left behind...

    rerun = subprocess.run([*CLI, "analyze", str(cohort), "--out", str(out), "-q"], env=env, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert not half_written.exists()  # ...and the next run into the same parent removes it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "out", "writing-in"]
    assert (out / "results.json").read_bytes() == before["results.json"]


def test_stale_cleanup_removes_only_burnouts_marked_temporary_folders(tmp_path):
    from burnout.outdir import TEMP_PREFIX, remove_stale_temporary_folders

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    users = tmp_path / f"{TEMP_PREFIX}{pid}.mine"  # burnout's prefix, a dead PID, but no marker
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    alive = tmp_path / f"{TEMP_PREFIX}{os.getppid()}.out.abc"  # a running writer's folder
    alive.mkdir()
    (alive / ".burnout-writing").write_text("{}")
    stale = tmp_path / f"{TEMP_PREFIX}{pid}.out.xyz"
    stale.mkdir()
    (stale / ".burnout-writing").write_text("{}")
    assert remove_stale_temporary_folders(tmp_path) == [stale]
    assert users.is_dir() and alive.is_dir() and not stale.exists()


def test_a_run_killed_between_the_two_renames_gets_the_old_output_put_back(tmp_path, monkeypatch):
    from burnout import outdir

    out = tmp_path / "out"
    outdir.write_output_folder(out, lambda f: (f / "results.json").write_text("old"))
    rename = Path.rename

    def killed_after_moving_out_aside(self, target):
        moved = rename(self, target)
        if self == out.resolve():
            raise KeyboardInterrupt  # stands for SIGKILL: the new folder never reaches OUT
        return moved

    monkeypatch.setattr(Path, "rename", killed_after_moving_out_aside)
    with pytest.raises(KeyboardInterrupt):
        outdir.write_output_folder(out, lambda f: (f / "results.json").write_text("new"))
    monkeypatch.undo()
    (aside,) = tmp_path.iterdir()
    assert not out.exists() and aside.name.startswith(f"{outdir.TEMP_PREFIX}{os.getpid()}~old.out.")

    monkeypatch.setattr(outdir, "_is_running", lambda pid: False)  # the killed run's PID is gone
    assert outdir.remove_stale_temporary_folders(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "results.json").read_text() == "old"
    assert json.loads((out / MANIFEST).read_text())["files"] == ["results.json"]

    # killed after the new folder is in place: the old one moved aside is removed, OUT kept
    aside.mkdir()
    (aside / MANIFEST).write_text((out / MANIFEST).read_text())
    assert outdir.remove_stale_temporary_folders(tmp_path) == [aside]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_simulate_twice_into_the_same_folder_replaces_its_own_cohort(tmp_path):
    out = tmp_path / "C"
    for seed in ("1", "2"):
        result = runner.invoke(app, ["simulate", "--out", str(out), "--patients", "20", "--seed", seed])
        assert result.exit_code == 0, result.output
    assert "seed 2" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST,
        "mbi_gs.csv",
        "patients.csv",
        "phq9.csv",
        "sessions.csv",
        "synthetic_truth.csv",
    ]
