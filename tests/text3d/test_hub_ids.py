"""Hub ids: every one the configs and docs name is in ``text3d.backends.hub_ids``; removed ones name their
replacement; a model missing from the local cache names the download switch; with the switch, a failed download
names its real cause. A local fake hub cache (``text3d.fakes.put_in_hub_cache``) stands in for the hub; nothing reaches
the network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from text3d.backends import hub, hub_ids
from text3d.backends.registry import build_backend
from text3d.fakes import put_in_hub_cache, save_tiny_public_models
from text3d.cli import main


ROOT = Path(__file__).resolve().parents[2]
# a hub id: org (letters, digits, hyphens) / name, each with a letter; not a folder of this repository
HUB_STYLE = re.compile(r"^(?=[\w-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]*/(?=[\w.-]*[A-Za-z])[\w.-]+$")
FILE_SUFFIX = re.compile(r"\.(py|ya?ml|json|md|png|jpe?g|txt|csv|sh|npz|npy|ply|glb|mp4|safetensors|pt|ckpt|zip)$")
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
HF_URL = re.compile(r"huggingface\.co/([A-Za-z0-9][\w.-]*/[\w.-]+)")
LOCAL_ROOTS = {p.name for p in ROOT.iterdir()} | {"runs", "outputs"}


def hub_style(token: str) -> bool:
    token = token.strip(".")
    return bool(HUB_STYLE.match(token)) and not FILE_SUFFIX.search(token) and token.split("/")[0] not in LOCAL_ROOTS


def yaml_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in yaml_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in yaml_strings(v)]
    return [node] if isinstance(node, str) else []


def named_ids() -> dict[str, str]:
    """hub-style id -> the file naming it: string values of configs/**/*.yaml; code spans, code blocks and
    huggingface.co links of README.md and docs/*.md."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        for value in yaml_strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if hub_style(value):
                found.setdefault(value, str(path.relative_to(ROOT)))
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        tokens = [t for span in CODE.findall(text) for t in re.split(r"[\s`'\"=:,;()\[\]{}<>|]+", span)]
        for token in tokens + HF_URL.findall(text):
            if hub_style(token):
                found.setdefault(token.strip("."), str(path.relative_to(ROOT)))
    return found


def one_line_error(capsys) -> str:
    err = [ln for ln in capsys.readouterr().err.replace("\r", "\n").splitlines()
           if ln.strip() and "it/s]" not in ln and "Loading" not in ln]  # diffusers' progress bars
    assert len(err) == 1, err
    return err[0]


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Tiny random Stable Diffusion (t2i, inpaint), Marigold and DPT folders."""
    return save_tiny_public_models(tmp_path_factory.mktemp("tiny"))


def test_every_hub_id_in_configs_and_docs_is_in_the_one_list():
    found = named_ids()
    assert {hub_ids.SD_T2I, hub_ids.SD_INPAINT, hub_ids.MARIGOLD} <= set(found)  # the sd preset's
    missing = {i: f for i, f in found.items() if i not in hub_ids.ALL}
    assert not missing, f"add these hub ids to text3d/backends/hub_ids.py: {missing}"
    assert not set(hub_ids.CURRENT) & set(hub_ids.REMOVED)
    assert set(hub_ids.REMOVED.values()) <= set(hub_ids.CURRENT)


def test_the_scan_tells_hub_ids_from_paths():
    assert hub_style("org-name/Model_v1.5") and hub_style(hub_ids.SD_T2I)
    for token in ("assets/depthgen", "runs/t2i", "configs/text3d", "1/1.4", "OUTPUT_DIR/STOP",
                  "DepthBackend.predict/complete", "t2i/t2i.yaml"):
        assert not hub_style(token), token


@pytest.mark.parametrize("removed", sorted(hub_ids.REMOVED))
def test_a_removed_id_names_its_replacement(removed, hub_cache):
    with pytest.raises(ValueError, match=re.escape(hub_ids.REMOVED[removed])) as e:
        build_backend("t2i", removed)
    assert "\n" not in str(e.value) and "removed" in str(e.value)


def test_cli_removed_id_and_missing_model_are_one_line_and_exit_2(hub_cache, tmp_path, capsys):
    removed = "stabilityai/stable-diffusion-2-1-base"
    assert main(["a room", "--preset", "fast", "--t2i", removed, "--out", str(tmp_path / "a"), "--quiet"]) == 2
    assert hub_ids.REMOVED[removed] in one_line_error(capsys)
    assert main(["a room", "--preset", "fast", "--depth", "someone/not-cached", "--out", str(tmp_path / "b"),
                 "--quiet"]) == 2
    line = one_line_error(capsys)
    assert "someone/not-cached" in line and "--allow-download" in line
    assert main(["a room", "--preset", "sd", "--out", str(tmp_path / "c"), "--quiet"]) == 2  # nothing cached
    line = one_line_error(capsys)
    assert hub_ids.SD_T2I in line and "--allow-download" in line


def test_cli_download_failure_gives_its_real_cause(hub_cache, tmp_path, capsys):
    """Under the tests' HF_HUB_OFFLINE=1 the hub client refuses to connect: that is the cause shown."""
    code = main(["a room", "--preset", "fast", "--t2i", "someone/not-cached", "--allow-download",
                 "--out", str(tmp_path / "o"), "--quiet"])
    line = one_line_error(capsys)
    assert code == 2 and "downloading someone/not-cached failed" in line
    assert "HF_HUB_OFFLINE" in line and "network access attempted" not in line
    assert not (tmp_path / "o").exists()


def test_a_marigold_folder_given_as_t2i_is_one_line(tiny_models, tmp_path, capsys):
    assert main(["a room", "--preset", "fast", "--t2i", str(tiny_models / "marigold"), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    line = one_line_error(capsys)
    assert "MarigoldDepthPipeline" in line and "--depth" in line
    with pytest.raises(ValueError, match="transformers depth-estimation model.*--depth"):
        build_backend("inpaint", str(tiny_models / "dpt"))


def test_download_step_uses_the_cache_and_fetches_what_is_missing(tiny_models, hub_cache, monkeypatch):
    """A cached id is not fetched again; a missing diffusers id goes through DiffusionPipeline.download (here a
    copy from a local folder standing in for the hub), and then loads offline."""
    from diffusers import DiffusionPipeline

    put_in_hub_cache(tiny_models / "t2i", hub_ids.SD_T2I, hub_cache)
    fetched = []

    def fake_index(repo_id, filename, cache_dir=None, **kwargs):
        assert filename == "model_index.json" and Path(cache_dir) == hub_cache
        return str(tiny_models / "inpaint" / filename)

    def fake_download(repo_id, cache_dir=None, **kwargs):
        fetched.append(repo_id)
        return str(put_in_hub_cache(tiny_models / "inpaint", repo_id, Path(cache_dir)))

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_index)
    monkeypatch.setattr(DiffusionPipeline, "download", classmethod(lambda cls, *a, **k: fake_download(*a, **k)))
    assert hub.download_models([hub_ids.SD_T2I, hub_ids.SD_INPAINT, "embedded", None, str(tiny_models)]) == [
        hub_ids.SD_T2I, hub_ids.SD_INPAINT]
    assert fetched == [hub_ids.SD_INPAINT]
    backend = build_backend("inpaint", hub_ids.SD_INPAINT)
    assert backend.name == hub_ids.SD_INPAINT


def test_sd_preset_runs_from_the_local_cache_with_every_kind_of_depth(tiny_models, hub_cache, tmp_path):
    """The README's sd command with the preset's hub ids in a local cache (tiny random models); --depth takes a
    Marigold id, a transformers folder or the embedded DepthGen with this preset as with every other."""
    for folder, repo in (("t2i", hub_ids.SD_T2I), ("inpaint", hub_ids.SD_INPAINT), ("marigold", hub_ids.MARIGOLD)):
        put_in_hub_cache(tiny_models / folder, repo, hub_cache)
    fast = ["--size", "32x32", "--views", "2", "--trajectory", "walk", "--steps", "2", "--quiet",
            "--set", "video.enabled=false", "--set", "cleanup.views=0", "--set", "lift.mesh_stride=1"]
    for depth in (None, str(tiny_models / "dpt"), "embedded"):
        out = tmp_path / f"run-{depth is None}-{depth == 'embedded'}"
        argv = ["a sunny kitchen", "--preset", "sd", "--out", str(out), "--allow-download", *fast]
        assert main(argv + ([] if depth is None else ["--depth", depth])) == 0, depth
        manifest = (out / "manifest.json").read_text(encoding="utf-8")
        assert hub_ids.SD_T2I in manifest and (depth or hub_ids.MARIGOLD) in manifest


def test_the_cause_of_a_failed_download_is_the_innermost_error_or_the_hubs_word():
    import httpx
    from huggingface_hub.errors import GatedRepoError

    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("An error happened while trying to locate the file on the Hub.\nCheck...") from inner
    except RuntimeError as e:
        assert hub.root_cause(e) == "ConnectionRefusedError: [Errno 111] Connection refused"
    response = httpx.Response(401, request=httpx.Request("GET", "http://127.0.0.1/api/models/org/name"))
    gated = GatedRepoError("401 Client Error.\n\nCannot access gated repo", response=response)
    assert "gated" in hub.root_cause(gated) and "log in" in hub.root_cause(gated)
