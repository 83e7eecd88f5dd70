"""Output folders: may burnout write here, and how, so that nothing of the user's is ever lost.

Every folder burnout writes (``analyze``, ``demo``, ``simulate``) carries a manifest,
``OUT/.burnout-manifest.json`` = {"tool": "burnout", "version": ..., "files": [sorted
relative paths]}. burnout replaces only a folder it wrote itself:

- refused, before any work and again just before the swap: an existing file; a
  non-empty folder without burnout's manifest; a burnout folder holding a file its
  manifest does not list (a user's file dropped in later is named, not deleted); the
  cohort folder or a folder containing it; the current folder or a folder containing
  it; ``/``, the home folder or a folder containing it; a path under a file or in a
  folder burnout cannot write to.
- allowed: a new path, an empty folder, or a folder burnout wrote (re-running is the
  normal case). Files its manifest lists but that are gone are fine: nothing is lost.

Writing happens in a temporary sibling folder named ``.burnout-tmp-PID.NAME.xxxx``
holding a marker file while it is written; the manifest is written last, then the
folder is swapped in with renames (the old OUT is moved aside, the new one renamed
into place, the old one removed). A run killed mid-write leaves only such a temporary
folder; the next run writing into the same parent removes temporary folders that
carry the prefix, a dead writer's PID and burnout's marker or manifest, and nothing else,
except that an old OUT a run moved aside and was killed before replacing is put back.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from burnout.errors import BurnoutError

__all__ = [
    "MANIFEST_NAME",
    "TEMP_PREFIX",
    "OutputFolderError",
    "check_output_folder",
    "simulated_sha256",
    "write_output_folder",
]

MANIFEST_NAME = ".burnout-manifest.json"
TEMP_PREFIX = ".burnout-tmp-"
_MARKER_NAME = ".burnout-writing"  # inside a temporary folder while it is being written
_ASIDE = "~old"  # after the PID: an old OUT moved aside during the swap (``.burnout-tmp-PID~old.NAME.xxxx``)
_NEW_NAME_HINT = "choose a new folder name (burnout creates it) or an empty folder"


class OutputFolderError(ValueError, BurnoutError):
    """The output folder cannot be written without risking files burnout did not write."""


def check_output_folder(out: str | os.PathLike[str], *, sources: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Refuse ``out`` unless burnout may create or replace it; return it as an absolute path.

    ``sources`` are folders the run reads (the cohort): ``out`` may be neither one of
    them nor a folder containing one. Nothing is touched.

    Raises
    ------
    OutputFolderError
        With a one-line message naming the path, the reason and what to do.
    """
    target = Path(os.path.abspath(os.fspath(out)))
    resolved = target.resolve()

    def refuse(reason: str, fix: str = _NEW_NAME_HINT) -> OutputFolderError:
        return OutputFolderError(f"output folder {str(target)!r} {reason}; nothing was written: {fix}")

    protected = [("the root folder", Path("/")), ("the current folder", Path.cwd())]
    with contextlib.suppress(RuntimeError, KeyError):  # no home folder known: nothing to protect
        protected.append(("your home folder", Path.home()))
    protected += [("the cohort folder", Path(s)) for s in sources]
    for what, folder in protected:
        folder = folder.resolve()
        if resolved == folder:
            raise refuse(f"is {what}")
        if resolved in folder.parents:
            raise refuse(f"contains {what} ({folder})")
    try:
        if target.is_symlink() and not target.is_dir():
            raise refuse("is a link that is not to a folder")
        if resolved.exists() and not resolved.is_dir():
            raise refuse("is an existing file")
        if resolved.is_dir():
            _check_replaceable(resolved, refuse)
        else:
            ancestor = resolved.parent
            while not ancestor.exists():
                ancestor = ancestor.parent
            if not ancestor.is_dir():
                raise refuse(f"is under {str(ancestor)!r}, which is a file", "choose a path inside a folder")
            _probe_writable(ancestor, refuse)
    except PermissionError as exc:
        raise refuse(f"cannot be read ({exc.strerror})", "choose a folder you can read and write") from None
    return resolved


def _probe_writable(folder: Path, refuse: Callable[..., OutputFolderError]) -> None:
    """Create and remove an empty folder in ``folder``: permissions alone miss /proc, read-only mounts, root."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.probe.", dir=folder))
    except OSError as exc:
        raise refuse(
            f"cannot be created in {str(folder)!r} ({exc.strerror or type(exc).__name__})",
            "choose a folder you can write to",
        ) from None


def _check_replaceable(folder: Path, refuse: Callable[..., OutputFolderError]) -> None:
    present = _files_under(folder)
    if not present:
        return  # an empty folder holds nothing to lose
    manifest = _read_manifest(folder)
    if manifest is None:
        shown = ", ".join(repr(p) for p in sorted(present)[:3]) + (", ..." if len(present) > 3 else "")
        raise refuse(f"holds files burnout did not write ({shown}) and no burnout manifest")
    extra = sorted(set(present) - {MANIFEST_NAME} - set(manifest["files"]))
    if extra:
        shown = ", ".join(repr(p) for p in extra[:3]) + (", ..." if len(extra) > 3 else "")
        raise refuse(
            f"was written by burnout but now also holds {shown}, which burnout did not write",
            "move those files out of it, or choose another output folder",
        )


def _files_under(folder: Path) -> list[str]:
    """Relative POSIX paths of every non-folder entry under ``folder`` (links are not followed)."""
    found = []
    for root, dirs, files in os.walk(folder, onerror=_raise):
        base = Path(root).relative_to(folder)
        found += [(base / f).as_posix() for f in files]
        # a link to a folder is listed as an entry of its own: replacing OUT removes the link only
        found += [(base / d).as_posix() for d in dirs if (Path(root) / d).is_symlink()]
    return found


def _raise(exc: OSError) -> None:
    raise exc


def _read_manifest(folder: Path) -> dict | None:
    """burnout's manifest in ``folder``, or None when there is none or it is not burnout's."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and data.get("tool") == "burnout" and isinstance(data.get("files"), list)):
        return None
    if not all(isinstance(f, str) for f in data["files"]):
        return None
    return data


def write_output_folder(
    out: str | os.PathLike[str],
    write: Callable[[Path], object],
    *,
    sources: Iterable[str | os.PathLike[str]] = (),
    synthetic: bool = False,
) -> Path:
    """Build a folder with ``write(folder)`` and put it at ``out`` atomically; return ``out``.

    ``out`` is checked by :func:`check_output_folder` before writing and again just
    before the swap. On any error the temporary folder is removed and an existing
    ``out`` is left as it was. ``synthetic``: the files are simulated data; the
    manifest says so with each file's SHA-256 (see :func:`simulated_sha256`).

    Raises
    ------
    OutputFolderError
        ``out`` is refused, or writing failed (permission denied, disk full, ...):
        the message names the path and what to do.
    """
    from burnout._version import __version__

    sources = tuple(sources)
    target = check_output_folder(out, sources=sources)
    shown = str(Path(os.path.abspath(os.fspath(out))))
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporary_folders(target.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.{target.name}.", dir=target.parent))
        marker = tmp / _MARKER_NAME
        marker.write_text(json.dumps({"tool": "burnout", "pid": os.getpid()}) + "\n", encoding="utf-8")
        write(tmp)
        marker.unlink()
        files = sorted(p for p in _files_under(tmp) if p != MANIFEST_NAME)
        manifest: dict[str, object] = {"tool": "burnout", "version": __version__, "files": files}
        if synthetic:
            manifest["synthetic_sha256"] = {f: _sha256(tmp / f) for f in files}
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        check_output_folder(out, sources=sources)  # the folder may have changed while we computed
        _take_permissions(tmp, target)
        old = None
        if target.exists():
            # named for ``out`` so that a run killed before the next rename can be undone
            old = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}{_ASIDE}.{target.name}.", dir=target.parent))
            old.rmdir()
            target.rename(old)
        tmp.rename(target)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise OutputFolderError(_os_error_message(shown, exc)) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def simulated_sha256(folder: str | os.PathLike[str]) -> dict[str, str]:
    """File name -> SHA-256 of each file ``burnout simulate`` wrote into ``folder``, from its
    manifest; empty when burnout did not write it as simulated data. The reader compares
    them with the hashes it takes of the files it reads (``Cohort.synthetic``)."""
    path = Path(folder)
    manifest = _read_manifest(path) if path.is_dir() else None
    written = manifest.get("synthetic_sha256") if manifest else None
    if not isinstance(written, dict):
        return {}
    return {k: v for k, v in written.items() if isinstance(k, str) and isinstance(v, str)}


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _take_permissions(tmp: Path, target: Path) -> None:
    """Give the new folder the mode and group of the folder it replaces, or those of a plain
    ``mkdir`` (the umask's) when there is none: mkdtemp makes it private (0700), and a
    shared results folder would lose its colleagues' access."""
    if target.exists():
        before = target.stat()
        if tmp.stat().st_gid != before.st_gid:  # first: a change of group may clear setgid
            with contextlib.suppress(PermissionError):  # not a member: the parent folder's group stays
                os.chown(tmp, -1, before.st_gid)
        os.chmod(tmp, stat.S_IMODE(before.st_mode))
        return
    probe = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.mode.", dir=target.parent))
    probe.rmdir()
    probe.mkdir()  # as ``mkdir`` makes it: 0777 less the umask, setgid from the parent
    try:
        os.chmod(tmp, stat.S_IMODE(probe.stat().st_mode))
    finally:
        probe.rmdir()


def _os_error_message(shown: str, exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if isinstance(exc, PermissionError):
        fix = "choose a folder you can write to, or fix its permissions"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some disk space or choose a folder on another disk"
    else:
        fix = "check the path and run again"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot write output folder {shown!r}: {reason}{where}; any previous output there is unchanged: {fix}"


def remove_stale_temporary_folders(parent: Path) -> list[Path]:
    """Remove temporary folders left in ``parent`` by killed burnout runs; return them.

    Removed only when all hold: the name has burnout's temporary prefix and the PID of
    a process that no longer runs, and the folder holds burnout's marker or manifest.
    An old OUT moved aside by a run killed mid-swap is renamed back to OUT instead
    when nothing took its place (and is not returned).
    """
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX) or entry.is_symlink() or not entry.is_dir():
            continue
        pid_text, _, rest = entry.name[len(TEMP_PREFIX) :].partition(".")
        aside = pid_text.endswith(_ASIDE)
        pid_text = pid_text.removesuffix(_ASIDE)
        if not pid_text.isdigit() or _is_running(int(pid_text)):
            continue
        if aside:
            original = parent / rest.rsplit(".", 1)[0]  # the name mkdtemp was given, without its suffix
            if not os.path.lexists(original):
                with contextlib.suppress(OSError):
                    entry.rename(original)
                continue
        if (entry / _MARKER_NAME).is_file() or _read_manifest(entry) is not None:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but is not ours
    with contextlib.suppress(OSError):  # a zombie has finished writing for good
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    return True
