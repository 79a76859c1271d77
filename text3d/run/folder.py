"""The output folder of a run, all or nothing: a run writes into a hidden sibling folder and renames it into
place at the end; an interrupt (SIGINT, SIGTERM) or an error removes it, so the target holds either nothing
of this run or all of it.

Rules for the target: an empty path is refused; a missing or empty folder is used; a folder holding a
finished run of ours (its ``manifest.json`` says ``"format": "text3d-run"``) is replaced whole only with
``overwrite``; any other non-empty folder or a file is refused. Hidden staging folders (``.<name>.<pid>.<hex>.partial``)
and replaced runs (``.old``) left by dead processes are removed when the next run starts beside them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

RUN_FORMAT = "text3d-run"          # manifest.json's "format": how a finished run of ours is recognised
SUFFIXES = (".partial", ".old")


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGINT or SIGTERM); ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


def is_finished_run(path: Path) -> bool:
    """True when ``path`` is a folder holding a finished run's manifest.json."""
    try:
        manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == RUN_FORMAT


def check_target(out_dir: str | Path, overwrite: bool) -> Path:
    """The target folder of a run, checked (see the module docstring); ValueError with one line otherwise."""
    if not str(out_dir).strip():
        raise ValueError("the output folder is empty; give a folder with --out")
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"output path {path} is a file; give a folder with --out")
    if path.is_dir() and any(path.iterdir()):
        if not is_finished_run(path):
            raise ValueError(f"output folder {path} is not empty and holds no finished text3d run; choose another "
                             "--out")
        if not overwrite:
            raise ValueError(f"output folder {path} holds a finished run; pass --overwrite to replace it")
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):    # no such process (a number too large for one, too)
        return False
    except PermissionError:
        return True
    return True


def leftover_of(entry: Path) -> tuple[str, int] | None:
    """(target name, process id) from the name of a hidden staging or replaced folder
    (``.<name>.<pid>.<hex>.partial`` or ``.old``); None for any other name."""
    parts = entry.name[1:].rsplit(".", 3)
    if not entry.name.startswith(".") or entry.suffix not in SUFFIXES or len(parts) != 4 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def remove_stale(parent: Path, name: str | None = None) -> list[Path]:
    """Remove the hidden staging and replaced folders in ``parent`` (of the target ``name``; None: of any)
    whose process has ended; return them."""
    removed = []
    for entry in parent.iterdir() if parent.is_dir() else ():
        owner = leftover_of(entry)
        if owner is not None and name in (None, owner[0]) and owner[1] != os.getpid() and not _pid_alive(owner[1]):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@dataclass
class Staging:
    """A run's hidden sibling folder: write into ``path``, then ``commit`` it to ``target`` or ``discard`` it."""

    target: Path
    path: Path
    created: list[Path] = field(default_factory=list)    # parent folders this run made (deepest last)

    def commit(self) -> None:
        """Rename the staging folder into place (a finished run there is replaced whole), signals deferred."""
        old = self.target.with_name(f".{self.target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.old")
        with deferred_signals():
            if self.target.exists():
                self.target.rename(old)
            self.path.rename(self.target)
            _state["committed"] = True
        shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the staging folder and the parent folders this run created (where empty)."""
        shutil.rmtree(self.path, ignore_errors=True)
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                pass


def stage(target: Path) -> Staging:
    """Make the hidden staging folder beside ``target`` (its parents as needed), after removing dead runs'
    leftovers; ValueError when the place is not writable."""
    created = [p for p in [*reversed(target.parents)] if not p.exists()]
    path = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target.parent, target.name)
        path.mkdir()
        (path / "views").mkdir()
    except OSError as e:
        Staging(target, path, created).discard()
        raise ValueError(f"cannot write to output folder {target} ({e.strerror or e}); choose another --out") from None
    return Staging(target, path, created)


# ---- signals: SIGINT and SIGTERM raise Interrupted in the main thread; a second one while the first is handled
# is ignored; during a commit they wait until the rename is done -----------------------------------------------
_state = {"defer": False, "pending": None, "received": None, "committed": False}


def _handler(signum: int, frame) -> None:
    _state["received"] = signum
    if _state["defer"]:
        _state["pending"] = signum
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


def received_signal() -> int | None:
    """The signal number that stopped the run under ``handle_signals``, if one did."""
    return _state["received"]


@contextmanager
def handle_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` inside the block (main thread only); handlers restored after."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    _state.update(defer=False, pending=None, received=None, committed=False)
    for s in before:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Signals under ``handle_signals`` wait until the block is done, then raise ``Interrupted``."""
    _state["defer"] = True
    try:
        yield
    finally:
        _state["defer"] = False
        pending, _state["pending"] = _state["pending"], None
        if pending is not None:
            _handler(pending, None)


def exit_message(error: BaseException, target: Path | None) -> str:
    """One line for a run that stopped early (under ``handle_signals``)."""
    where = f" in {target}" if target is not None else ""
    signum = error.signum if isinstance(error, Interrupted) else received_signal()
    if signum is not None or isinstance(error, KeyboardInterrupt):
        name = signal.Signals(signum).name if signum else "SIGINT"
        if _state["committed"]:
            return f"interrupted ({name}) as the run finished; the run{where} is complete"
        return f"interrupted ({name}); nothing of this run was left{where}"
    if isinstance(error, OSError) and error.errno == 28:
        return f"the disk is full; nothing of this run was left{where}; free some space and run again"
    return f"internal error ({error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else ''}); " \
           f"nothing of this run was left{where}"
