"""Per-request output folders, their timed clean-up, and the "everything" zip of one request.

Why: each visitor's files live in their own folder under one root (the only folder the server is allowed
to serve from), and folders older than the retention time are deleted so a public page cannot fill the disk.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)


class OutputStore:
    """Creates ``root/<time>-<random>/`` folders and deletes those older than ``retention_s`` seconds."""

    def __init__(self, root: str | Path, retention_s: float):
        self.root = Path(root).resolve()
        self.retention_s = float(retention_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def new_request_dir(self) -> Path:
        """A fresh, empty folder for one request (old folders are swept first)."""
        self.cleanup()
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def discard(self, path: Path) -> None:
        """Delete one request folder now (a failed run leaves nothing behind)."""
        if Path(path).resolve().parent == self.root:
            shutil.rmtree(path, ignore_errors=True)

    def cleanup(self, now: float | None = None) -> list[Path]:
        """Delete request folders whose last change is older than the retention time; return them."""
        now = time.time() if now is None else now
        removed = []
        if not self.root.is_dir():
            return removed
        for entry in self.root.iterdir():
            try:
                if entry.is_dir() and now - entry.stat().st_mtime > self.retention_s:
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
    """Zip every file under ``folder`` (except ``zip_path`` and temp files) to ``zip_path``, atomically."""
    folder, zip_path = Path(folder), Path(zip_path)
    tmp = zip_path.with_name(f".{zip_path.stem}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path != zip_path and path != tmp and not path.name.startswith("."):
                    zf.write(path, path.relative_to(folder).as_posix())
        os.replace(tmp, zip_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return zip_path
