"""A run is all or nothing: output folders, interrupts (SIGINT, SIGTERM at random points: 3 trials here, 20 in
the slow lane) and a full disk (a size-limited tmpfs, where the machine lets the test mount one). The command
line's fuzz is tests/text3d/test_cli_fuzz.py. Figures: docs/reliability.md."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import text3d.run.inputs
import text3d.run.api
from text3d.cli import main
from text3d.fakes import fake_backends

REPO = Path(__file__).resolve().parents[2]
TINY = ["--preset", "fast", "--views", "2", "--size", "32x32", "--set", "video.frames=4", "--set", "video.height=32",
        "--set", "video.width=32", "--set", "cleanup.views=0", "--set", "trajectory.orbit_degrees=45", "--quiet"]
# a CLI run in a child process with the weight-free stand-in backends (for signals sent from outside)
CHILD = ("import sys, text3d.run.inputs as i, text3d.fakes as f; i.load_backends = lambda *a, **k: f.fake_backends(); "
         "from text3d.cli import cli; print('ready', flush=True); cli(sys.argv[1:])")


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(text3d.run.inputs, "load_backends", lambda *a, **k: fake_backends())


def assert_absent_or_complete(out: Path) -> None:
    """The folder is absent, or a finished run whose manifest, meshes and video load; no hidden leftovers."""
    assert not [p.name for p in out.parent.glob(f".{out.name}.*")], "hidden staging folders were left"
    if not out.exists():
        return
    import trimesh

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "text3d-run"
    for key in ("ply", "glb", "points", "transforms"):
        assert (out / manifest["outputs"][key]).is_file()
    assert len(trimesh.load(out / "scene.ply").vertices) == manifest["mesh"]["vertices"]
    trimesh.load(out / "scene.glb")
    if "mp4" in manifest["outputs"]:
        import imageio.v2 as imageio

        assert (out / "scene.mp4").read_bytes()[4:8] == b"ftyp"
        with imageio.get_reader(out / "scene.mp4") as reader:
            assert reader.get_data(0).shape[:2] == (32, 32)


def test_out_folder_rules(tmp_path, capsys, fakes):
    out = tmp_path / "run"
    assert main(["a room", "--out", str(out), "--preset", "fast", "--views", "3", *TINY[4:]]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["torch_threads"] >= 1 and len(list((out / "views").glob("rgb_*.png"))) == 3
    capsys.readouterr()
    assert main(["a room", "--out", str(out), *TINY]) == 2                     # a finished run: not silently
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["a room", "--out", str(out), "--overwrite", *TINY]) == 0      # replaced whole: 2 views, not 3
    assert sorted(p.name for p in (out / "views").glob("rgb_*.png")) == ["rgb_000.png", "rgb_001.png"]
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    capsys.readouterr()
    assert main(["a room", "--out", str(foreign), "--overwrite", *TINY]) == 2
    assert "holds no finished text3d run" in capsys.readouterr().err and (foreign / "notes.txt").exists()


@pytest.mark.parametrize("error, code, words", [(KeyboardInterrupt(), 130, "interrupted (SIGINT)"),
                                                (OSError(28, "No space left on device"), 1, "disk is full"),
                                                (RuntimeError("boom"), 1, "internal error (RuntimeError: boom)")])
def test_an_error_in_the_video_stage_leaves_nothing(tmp_path, capsys, fakes, monkeypatch, error, code, words):
    def fail(*a, **k):
        raise error

    monkeypatch.setattr(text3d.run.api, "write_video", fail)
    out = tmp_path / "sub" / "run"
    assert main(["a room", "--out", str(out), *TINY]) == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "nothing of this run was left" in lines[0]
    assert not (tmp_path / "sub").exists()                                      # nor the folders it made


def test_leftovers_of_dead_runs_are_removed(tmp_path, fakes):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".run.{dead.stdout.strip()}.0123abcd.partial"
    (stale / "views").mkdir(parents=True)
    assert main(["a room", "--out", str(tmp_path / "run"), *TINY]) == 0
    assert not stale.exists()
    assert_absent_or_complete(tmp_path / "run")


def _kill_trials(tmp_path: Path, trials: int, seed: int) -> list[tuple[str, float, int, bool]]:
    """Start CLI runs in child processes and, once a child has imported the CLI (it prints 'ready'), send
    SIGINT or SIGTERM after a random delay (0 to 1.05 x a whole run's time); returns (signal, delay s, exit
    code, folder exists) per trial."""
    rng = random.Random(seed)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", CHILD, "a room", "--out", str(tmp_path / "timing"), *TINY],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child.stdout.readline()
    start = time.perf_counter()
    assert child.wait(timeout=300) == 0
    whole = time.perf_counter() - start
    results = []
    for t in range(trials):
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        delay = rng.uniform(0.0, 1.05 * whole)
        out = tmp_path / f"run{t}"
        child = subprocess.Popen([sys.executable, "-c", CHILD, "a room", "--out", str(out), *TINY], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        child.stdout.readline()
        time.sleep(delay)
        child.send_signal(sig)
        _, err = child.communicate(timeout=300)
        assert "Traceback" not in err, err
        assert child.returncode in (0, 128 + sig, -sig), (child.returncode, err)
        assert_absent_or_complete(out)
        results.append((sig.name, round(delay, 2), child.returncode, out.exists()))
    return results


def test_signals_at_random_points_leave_nothing_or_a_complete_run(tmp_path):
    seed = int(os.environ.get("KILL_SEED", time.time_ns() % 2**32))      # new points each run; KILL_SEED repeats
    print(f"KILL_SEED={seed}", _kill_trials(tmp_path, 3, seed=seed))


@pytest.mark.slow
def test_signals_at_random_points_20_trials(tmp_path):
    print(_kill_trials(tmp_path, 20, seed=20))


def test_a_full_disk_leaves_nothing(tmp_path, capsys, fakes):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a size-limited tmpfs is not allowed here")
    try:
        out = mount / "run"
        assert main(["a room", "--out", str(out), *TINY]) == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "disk is full" in lines[0], lines
        assert list(mount.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)
