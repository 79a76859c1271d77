"""Fixtures for the UI tests: a served app on a free loopback port, and a fast generate function.

The generate function is the real ``text3d.generate_scene`` with weight-free stand-in backends (``text3d.fakes``)
and the smallest settings, so a whole run (views, fusion, export, video) takes a few seconds on CPU.
Servers run in this process with ``serve(block=False)`` (the same launch settings as ``python app.py``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest

FAST_OVERRIDES = ("cleanup.views=0", "video.frames=8", "video.width=96", "video.height=96")


def fast_generate(*args: Any, **kwargs: Any):
    """``text3d.generate_scene`` with the quickest pipeline settings (no clean-up views, a short small video)."""
    import text3d

    return text3d.generate_scene(*args, overrides=FAST_OVERRIDES + tuple(kwargs.pop("overrides", ())), **kwargs)


class ConcurrencyProbe:
    """Wraps a generate function and records how many calls ran at the same time."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn, self.lock = fn, threading.Lock()
        self.running = self.max_running = self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any):
        with self.lock:
            self.running += 1
            self.calls += 1
            self.max_running = max(self.max_running, self.running)
        try:
            return self.fn(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


def _loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str) or host in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def record_network() -> Iterator[list]:
    """Refuse and record non-loopback connections from any thread (the server's too) while active.

    The shared guard in tests/conftest.py is per test; servers here outlive one test, so they get their own.
    """
    attempts: list = []
    real = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            attempts.append(address)
            raise RuntimeError(f"network access attempted: {address!r}")
        return real(self, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guarded)
        yield attempts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(work_dir: Path, generate_fn: Callable[..., Any] | None = None, backends: Any = "fake",
               **settings_kw: Any) -> Iterator[tuple[str, Any, list]]:
    """Build and serve the app; yield (url, demo, network attempts). Gradio's cache goes under work_dir."""
    from text3d.fakes import fake_backends
    from text3d.ui import UISettings, build_app, serve, shutdown

    with pytest.MonkeyPatch.context() as mp, record_network() as attempts:
        mp.setenv("GRADIO_TEMP_DIR", str(work_dir / "gradio"))
        mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        settings = UISettings(work_dir=work_dir, **settings_kw)
        demo = build_app(generate_fn=generate_fn or fast_generate,
                         backends=fake_backends() if backends == "fake" else backends, settings=settings)
        url = serve(demo, host="127.0.0.1", port=free_port(), block=False)
        try:
            yield url, demo, attempts
        finally:
            shutdown(demo)
    assert not attempts, f"the app tried to reach the network: {attempts}"


def make_client(url: str, download_dir: Path):
    from gradio_client import Client

    return Client(url, analytics_enabled=False, download_files=str(download_dir), verbose=False)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory) -> Iterator[tuple[str, Any, ConcurrencyProbe]]:
    """One app for the API tests of this module: real pipeline, stand-in models, one run at a time."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    probe = ConcurrencyProbe(fast_generate)
    work = tmp_path_factory.mktemp("ui-app")
    with served_app(work, generate_fn=probe, concurrency=1, max_upload_bytes=200_000,
                    max_upload_pixels=512 * 512) as (url, demo, _):
        yield url, demo, probe


@pytest.fixture(scope="session")
def ui_tools() -> SimpleNamespace:
    """The helpers above for test modules (conftest modules are not imported by name)."""
    return SimpleNamespace(serve=served_app, client=make_client, wait_until=wait_until,
                           fast_generate=fast_generate, Probe=ConcurrencyProbe, free_port=free_port,
                           record_network=record_network)
