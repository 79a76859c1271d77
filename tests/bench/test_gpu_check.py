"""bench.gpu_check rehearsed on the CPU (--quick): both presets run, the sd preset from a temporary cache of tiny
random models under its hub ids, and the report holds per-stage timings for each."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bench.gpu_check import main
from text3d.backends.hub_ids import MARIGOLD, SD_T2I

ROOT = Path(__file__).resolve().parents[2]


def test_quick_rehearsal_on_cpu_reports_every_stage(tmp_path, capsys):
    before = os.environ.get("HF_HUB_CACHE")
    assert main(["--device", "cpu", "--quick", "--out-dir", str(tmp_path)]) == 0
    assert os.environ.get("HF_HUB_CACHE") == before  # the temporary cache is not left in the environment
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert set(report["results"]) == {"default", "sd"}
    for r in report["results"].values():
        assert r["peak_gpu_mib"] is None and r["wall_s"] > 0
        assert {"load", "depth", "fusion"} <= set(r["timings_s"])
    assert report["results"]["sd"]["backends"]["t2i"] == SD_T2I
    assert report["results"]["sd"]["backends"]["depth"] == MARIGOLD
    assert "default:" in capsys.readouterr().out


def test_the_script_wants_a_folder():
    done = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "OUT_DIR" in done.stderr
