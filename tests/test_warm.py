"""_warm: modules imported in a background thread; failures left to the main thread."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from burnout._warm import REPORT_MODULES, STATISTICS_MODULES, warm_imports


def test_warm_imports_loads_the_modules_and_skips_a_failure() -> None:
    for name in ("colorsys", "burnout_no_such_module"):
        sys.modules.pop(name, None)
    thread = warm_imports("colorsys", "burnout_no_such_module", "wave")
    thread.join(timeout=30)
    assert not thread.is_alive() and thread.daemon
    assert "colorsys" in sys.modules
    assert "burnout_no_such_module" not in sys.modules  # the error stayed in the thread


def test_warmed_module_names_exist() -> None:
    import importlib.util

    for name in (*STATISTICS_MODULES, *REPORT_MODULES):
        assert importlib.util.find_spec(name) is not None, name


# -- the helper process ----------------------------------------------------------------
def _chunk_with_pid(task):
    """One imputation chunk and the process that ran it (a module-level function: it is pickled)."""
    import os

    from burnout.stats.imputation import _run_chunk

    return _run_chunk(task), os.getpid()


def _square_with_pid(x: int) -> tuple[int, int]:
    import os
    import time

    time.sleep(0.02)  # long enough that both processes get items
    return x * x, os.getpid()


def _wait_ready() -> None:
    import time

    from burnout._warm import helper

    deadline = time.monotonic() + 120
    while helper() is None:
        assert time.monotonic() < deadline, "the helper process never became ready"
        time.sleep(0.05)


def test_shared_map_keeps_order_and_shares_the_work(monkeypatch) -> None:
    import os

    from burnout._warm import helper, helper_process, shared_map

    monkeypatch.setenv("BURNOUT_HELPER", "1")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    items = list(range(60))
    with helper_process("colorsys"):
        _wait_ready()
        got = shared_map(_square_with_pid, items)
    assert helper() is None  # gone with the block
    assert [v for v, _ in got] == [x * x for x in items]
    pids = {pid for _, pid in got}
    assert os.getpid() in pids and len(pids) == 2, pids  # both ran some items
    # the main process works from the front, the helper from the end: one run each
    owners = [pid == os.getpid() for _, pid in got]
    assert owners == sorted(owners, reverse=True)


def test_no_helper_when_switched_off(monkeypatch) -> None:
    import os

    from burnout._warm import helper, helper_process, shared_map

    monkeypatch.setenv("BURNOUT_HELPER", "0")
    with helper_process("colorsys") as pool:
        assert pool is None and helper() is None
        got = shared_map(_square_with_pid, [1, 2, 3])
    assert got == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


def test_imputation_is_the_same_bytes_with_the_helper(monkeypatch) -> None:
    """Chains run in the helper process give exactly the counts of chains run here."""
    import os

    import numpy as np

    from burnout._warm import helper_process
    from burnout.stats import impute_responses

    rng = np.random.default_rng(5)
    n = 300
    base = rng.integers(0, 31, size=(n, 2)).astype(float)
    last = np.clip(base + rng.integers(-8, 9, size=(n, 2)), 0, 30)
    last[rng.random((n, 2)) < 0.4] = np.nan
    scores = np.stack([base, last], axis=2)
    observed = np.where(np.isnan(last), -1, (base - last >= 5).astype(int))
    args = dict(
        subscales=("a", "b"), good_direction=(-1, -1), min_change=5, scale=5, imputations=24, seed=9, deltas=(0, 3)
    )
    cov = rng.normal(size=(n, 2))
    here = impute_responses(scores, cov, observed, **args)
    monkeypatch.setenv("BURNOUT_HELPER", "1")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    import burnout._warm as warm

    real, pids, chunks = warm.shared_map, set(), []

    def recording(fn, items):  # the chunks as the product splits them, each run with its pid
        chunks.append(len(items))
        done = real(_chunk_with_pid, items)
        pids.update(pid for _, pid in done)
        return [units for units, _ in done]

    monkeypatch.setattr(warm, "shared_map", recording)
    with helper_process("burnout.stats.imputation"):
        _wait_ready()
        shared = impute_responses(scores, cov, observed, **args)
    assert chunks and chunks[0] >= 2 and pids - {os.getpid()}  # some chains really ran in the helper
    assert shared == here
    assert len(set(here.responders["a"])) > 1  # the chains differ, so an order mix-up would show


def test_helper_only_when_a_cpu_is_free(monkeypatch) -> None:
    import os

    from burnout._warm import _worth_a_helper

    monkeypatch.delenv("BURNOUT_HELPER", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.4, 0.4, 0.4))
    assert _worth_a_helper()
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 1.5, 1.5))  # half a CPU free, just
    assert _worth_a_helper()
    monkeypatch.setattr(os, "getloadavg", lambda: (1.6, 1.6, 1.6))  # both CPUs nearly busy elsewhere
    assert not _worth_a_helper()
    monkeypatch.setenv("BURNOUT_HELPER", "1")
    assert _worth_a_helper()
    monkeypatch.setenv("BURNOUT_HELPER", "0")
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert not _worth_a_helper()
    monkeypatch.delenv("BURNOUT_HELPER")
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not _worth_a_helper()


def test_figures_are_the_same_bytes_with_the_helper(monkeypatch) -> None:
    """Figures drawn in the helper process equal those drawn here (SVG, narrow SVG and PNG)."""
    import os

    from burnout._warm import helper_process
    from burnout.report.figures import build_figures
    from burnout.report.format import Ctx
    from resultsfactory import make_results

    ctx = Ctx(make_results()[0])
    here = build_figures(ctx)
    monkeypatch.setenv("BURNOUT_HELPER", "1")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with helper_process("burnout.report.figures"):
        _wait_ready()
        shared = build_figures(ctx)
    assert list(shared) == list(here) and len(here) >= 5
    assert shared == here  # frozen dataclasses: every field, bytes included


def test_the_helper_exits_when_its_parent_is_killed(tmp_path) -> None:
    """A SIGKILLed analysis runs no atexit: its helper must notice and go, not wait forever on its stdio."""
    import os
    import signal
    import subprocess
    import time

    script = (
        "import os, sys, time\n"
        "from burnout._warm import helper_process\n"
        "with helper_process() as pool:\n"
        "    print(pool.submit(os.getpid).result(timeout=120), flush=True)\n"
        "    time.sleep(600)\n"
    )
    env = {**os.environ, "BURNOUT_HELPER": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        assert line.strip().isdigit(), proc.stderr.read() if proc.poll() is not None else line
        helper_pid = int(line)
        assert helper_pid != proc.pid
        os.kill(helper_pid, 0)  # alive while the parent is
    finally:
        proc.send_signal(signal.SIGKILL)
    # the helper (and multiprocessing's resource tracker) held the pipes: EOF means both went
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(helper_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"the helper process {helper_pid} outlived its killed parent")


def test_the_helper_exits_cleanly_and_runs_the_atexit_handlers_of_its_work(tmp_path) -> None:
    """The helper ends with os._exit when stopped; what its tasks registered at exit still runs."""
    import os
    import subprocess

    mark = tmp_path / "ran-at-exit"
    script = (
        "import os\n"
        "from burnout._warm import helper_process\n"
        "from test_warm import _register_exit_mark\n"
        "with helper_process() as pool:\n"
        f"    print(pool.submit(_register_exit_mark, {str(mark)!r}).result(timeout=120), flush=True)\n"
    )
    env = {**os.environ, "BURNOUT_HELPER": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stderr) == (0, "")
    helper_pid = int(done.stdout)
    assert mark.read_text() == str(helper_pid)
    with pytest.raises(ProcessLookupError):
        os.kill(helper_pid, 0)


def _register_exit_mark(path: str) -> int:
    import atexit
    import os

    atexit.register(lambda: Path(path).write_text(str(os.getpid())))
    return os.getpid()


def test_the_helper_leaves_quietly_on_ctrl_c() -> None:
    """Ctrl-C reaches the whole process group: the helper ends with 130 and prints no traceback of its own."""
    import os
    import signal
    import subprocess

    script = (
        "import multiprocessing, os, sys\n"
        "from burnout._warm import helper_process\n"
        "with helper_process() as pool:\n"
        "    print(pool.submit(os.getpid).result(timeout=120), flush=True)\n"
        "    sys.stdin.readline()\n"
        "    (child,) = multiprocessing.active_children()\n"
        "    child.join(30)\n"
        "    print(child.exitcode, flush=True)\n"
        "    os._exit(0)\n"
    )
    env = {**os.environ, "BURNOUT_HELPER": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        os.kill(int(proc.stdout.readline()), signal.SIGINT)
    finally:
        out, err = proc.communicate("\n", timeout=60)
    assert out.strip() == "130"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def _interrupt_the_watcher_soon() -> int:
    """In the helper: Ctrl-C delivered to its watcher thread, not its main one, once the main one
    waits for work again (the kernel may pick any thread for a signal sent to the process)."""
    import os
    import signal
    import threading
    import time

    (watcher,) = [t for t in threading.enumerate() if t.name == "burnout-exit-with-parent"]

    def later() -> None:
        time.sleep(0.5)  # the task's result sent, the main thread back in read()
        signal.pthread_kill(watcher.ident, signal.SIGINT)  # type: ignore[arg-type]  # a started thread has one

    threading.Thread(target=later, daemon=True).start()
    return os.getpid()


def test_the_helper_leaves_on_ctrl_c_whichever_of_its_threads_receives_it() -> None:
    """Python runs a signal's handler in the main thread only, at its next bytecode: a Ctrl-C taken
    by another thread while the main one waits in read() left the helper running (seen once in CI:
    exit code None 30 s after the signal)."""
    import os
    import subprocess

    script = (
        "import multiprocessing, os, sys\n"
        "from burnout._warm import helper_process\n"
        "from test_warm import _interrupt_the_watcher_soon\n"
        "with helper_process() as pool:\n"
        "    pool.submit(_interrupt_the_watcher_soon).result(timeout=120)\n"
        "    (child,) = multiprocessing.active_children()\n"
        "    child.join(15)\n"
        "    print(child.exitcode, flush=True)\n"
        "    os._exit(0)\n"
    )
    env = {**os.environ, "BURNOUT_HELPER": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "130", done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
