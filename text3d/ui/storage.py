"""Per-request output folders, their timed clean-up, the free-space check, and the "everything" zip of one request.

Why: each visitor's files live in their own folder under one root (the only folder the server is allowed
to serve from), and folders older than the retention time are deleted so a public page cannot fill the disk.
A request folder is made by the run, all or nothing (``text3d.run.folder``: a hidden staging folder renamed
into place), and the zip through the one atomic writer, so a failed or interrupted request leaves nothing.
A run is refused when the disk has less free space than ``RUN_DISK_BYTES``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
import zipfile
from pathlib import Path

from depthgen.common.io import atomic_path
from text3d.run.folder import leftover_of, remove_stale
from text3d.ui.inputs import human_size

log = logging.getLogger(__name__)

# Free disk space one request needs. Measured (docs/reliability.md): the peak of the request folder, its hidden
# staging folder and temp files, plus the download zip, of "a cozy library" seed 0 on CPU: 2,974,199 bytes for
# the fast preset (5 views), 26,097,185 for the default (256-px views, 8 + 2 clean-up views, 512-px video) and
# 31,956,272 (30.5 MB) for the UI's largest request, the default preset at 16 + 2 views; nothing outside the
# folder. x4 as a margin (scenes that compress worse, a second run at once), rounded up: 128 MB.
RUN_DISK_BYTES = 128 * 2**20


class OutputStore:
    """Creates ``root/<time>-<random>/`` folders and deletes those older than ``retention_s`` seconds."""

    def __init__(self, root: str | Path, retention_s: float):
        self.root = Path(root).resolve()
        self.retention_s = float(retention_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def new_request_path(self, needed_bytes: int = RUN_DISK_BYTES) -> Path:
        """A fresh path for one request's folder, not made yet (the run makes it, all or nothing). Old folders
        and dead runs' leftovers are swept first; ValueError (one line) when the disk then has less than
        ``needed_bytes`` free."""
        self.cleanup()
        self.root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.root).free
        if free < needed_bytes:
            raise ValueError(f"the server's disk is nearly full ({human_size(free)} free, a run needs "
                             f"{human_size(needed_bytes)}); try again later")
        return self.root / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}"

    def discard(self, path: Path) -> None:
        """Delete one request folder now (a failed run leaves nothing behind)."""
        if Path(path).resolve().parent == self.root:
            shutil.rmtree(path, ignore_errors=True)

    def cleanup(self, now: float | None = None) -> list[Path]:
        """Delete dead runs' staging folders, and request folders whose last change is older than the retention
        time (a running request's staging folder is kept); return them."""
        now = time.time() if now is None else now
        if not self.root.is_dir():
            return []
        removed = remove_stale(self.root)
        for entry in self.root.iterdir():
            try:
                if entry.is_dir() and leftover_of(entry) is None and now - entry.stat().st_mtime > self.retention_s:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
            except FileNotFoundError:    # removed by another worker meanwhile
                continue
        if removed:
            log.info("removed %d expired request folder(s) from %s", len(removed), self.root)
        return removed

    def start_janitor(self, interval_s: float) -> None:
        """Sweep every ``interval_s`` seconds in a daemon thread until ``stop_janitor``."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.cleanup()
                except OSError as e:     # keep sweeping; a transient error must not end the thread
                    log.warning("output clean-up failed: %s", e)

        self._thread = threading.Thread(target=loop, name="text3d-ui-janitor", daemon=True)
        self._thread.start()

    def stop_janitor(self) -> None:
        """Stop the sweeping thread (if running)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """Zip every file under ``folder`` (except ``zip_path`` and hidden temp files) to ``zip_path``, atomically
    (``depthgen.common.io.atomic_path``)."""
    folder, zip_path = Path(folder), Path(zip_path)
    with atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path != zip_path and not path.name.startswith("."):
                zf.write(path, path.relative_to(folder).as_posix())
    return zip_path
