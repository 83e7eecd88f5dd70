"""_exit: the status a command ends with (its behaviour end to end is in test_cli.py, through main)."""

from __future__ import annotations


def test_exit_status_is_what_sys_exit_would_give(capsys):
    from burnout._exit import _exit_status

    assert [_exit_status(None), _exit_status(0), _exit_status(2), _exit_status(130)] == [0, 0, 2, 130]
    assert _exit_status("stopped: no data") == 1
    assert capsys.readouterr().err == "stopped: no data\n"
