"""evaluate_model with fake predictors (known metrics), the report files, and the CLI's error handling."""

import json

import numpy as np
import pytest

from depthgen.data.folder import FolderDataset, write_folder_meta, write_folder_sample
from depthgen.evaluation.evaluate import evaluate_model, main

FACTORS = (1.1, 0.9, 1.3, 1.5)  # sample j predicts ground truth * FACTORS[j]


class ListDataset:
    def __init__(self, items, protocol=None):
        self.items, self.protocol = items, protocol

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def _items(n=3, h=12, w=16, seed=0):
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        depth = rng.uniform(1.0, 8.0, size=(h, w)).astype(np.float32)
        depth[0, :3] = 0.0  # invalid pixels
        rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        items.append({"rgb": rgb, "depth": depth, "valid": depth > 0, "name": f"img{i}"})
    return items


class GTLookupPredictor:
    """Predicts k samples gt * FACTORS[j] (garbage on invalid pixels), recognising images by their pixels."""

    def __init__(self, items, factors=FACTORS):
        self.gt = {it["rgb"].tobytes(): it["depth"] for it in items}
        self.factors, self.calls = factors, []

    def __call__(self, rgb, k, generator):
        assert rgb.dtype == np.float32 and 0.0 <= rgb.min() and rgb.max() <= 1.0
        self.calls.append(k)
        gt = self.gt[np.round(rgb * 255).astype(np.uint8).tobytes()]
        pred = np.stack([gt * self.factors[j] for j in range(k)])
        pred[:, gt == 0] = 123.0
        return pred


def test_known_metrics_for_each_sample_count_from_one_draw(tmp_path):
    items = _items()
    predict = GTLookupPredictor(items)
    res = evaluate_model(predict, ListDataset(items), "none", samples=[3, 1, 2], out_dir=tmp_path)
    assert predict.calls == [3, 3, 3]  # max(k) drawn once per image
    m = res["metrics"]
    assert list(m) == ["1", "2", "3"]
    assert m["1"]["abs_rel"] == pytest.approx(0.1)  # gt * 1.1
    assert m["1"]["delta1"] == 1.0 and m["1"]["rmse_log"] == pytest.approx(np.log(1.1))
    assert m["2"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)  # median(1.1, 0.9) = 1.0
    assert m["3"]["abs_rel"] == pytest.approx(0.1)  # median(1.1, 0.9, 1.3) = 1.1
    assert m["1"]["num_images"] == 3 and res["num_images"] == 3 and res["num_empty"] == 0
    row = res["per_image"][0]
    assert row["name"] == "img0" and row["k"]["1"]["n_valid"] == 12 * 16 - 3

    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["metrics"]["1"]["abs_rel"] == pytest.approx(0.1)
    assert saved["protocols"]["none"]["max_depth"] is None  # inf written as null: strict JSON
    md = (tmp_path / "results.md").read_text()
    assert "| samples | REL ↓" in md and "| 2 | 0.000 |" in md and "| 1 | 0.100 |" in md
    assert not list(tmp_path.glob(".*tmp"))


def test_median_scaling_and_protocol_caps():
    items = _items(2)
    res = evaluate_model(GTLookupPredictor(items, factors=(2.0,)), ListDataset(items), "none",
                         median_scaling=True)
    assert res["metrics"]["1"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)
    capped = evaluate_model(GTLookupPredictor(items), ListDataset(items), "none", max_depth=4.0)
    n_in_range = sum(int(((it["depth"] > 1e-3) & (it["depth"] < 4.0)).sum()) for it in items)
    assert sum(r["k"]["1"]["n_valid"] for r in capped["per_image"]) == n_in_range


def test_dataset_and_item_protocols_and_breakdown():
    items = _items(4, h=48, w=64)
    for i, it in enumerate(items):
        it["protocol"] = "kitti" if i % 2 else "nyu"
    res = evaluate_model(GTLookupPredictor(items), ListDataset(items), None)
    assert set(res["protocols"]) == {"nyu", "kitti"}
    assert res["protocols"]["nyu"]["crop"] == "eigen" and res["protocols"]["kitti"]["max_depth"] == 80.0
    assert res["by_protocol"]["nyu"]["1"]["num_images"] == 2
    # the caller's protocol wins; the dataset's default_crop replaces the protocol's crop
    ds = ListDataset(items)
    ds.default_crop = "none"
    res = evaluate_model(GTLookupPredictor(items), ds, "nyu")
    assert res["protocols"] == {"nyu": {"name": "nyu", "min_depth": 1e-3, "max_depth": 10.0, "crop": "none"}}
    assert res["per_image"][0]["k"]["1"]["n_valid"] == 48 * 64 - 3


def test_seeded_predictions_are_reproducible_and_independent_of_limit():
    items = _items(3)

    def noisy(rgb, k, generator):
        import torch

        base = GTLookupPredictor(items, factors=(1.0,) * k)(rgb, k, generator)
        return base * (1 + 0.1 * torch.rand(base.shape, generator=generator).numpy())

    a = evaluate_model(noisy, ListDataset(items), "none", samples=[1, 2], seed=5)
    b = evaluate_model(noisy, ListDataset(items), "none", samples=[1, 2], seed=5)
    c = evaluate_model(noisy, ListDataset(items), "none", samples=[1, 2], seed=5, limit=1)
    d = evaluate_model(noisy, ListDataset(items), "none", samples=[1, 2], seed=6)
    assert a["metrics"] == b["metrics"]
    assert c["per_image"][0]["k"] == a["per_image"][0]["k"]
    assert d["metrics"]["1"]["abs_rel"] != a["metrics"]["1"]["abs_rel"]


def test_low_resolution_predictions_are_resized_to_ground_truth():
    items = _items(1)
    items[0]["depth"][:] = 3.0

    def small(rgb, k, generator):
        return np.full((k, 6, 8), 3.3, np.float32)

    res = evaluate_model(small, ListDataset(items), "none")
    assert res["metrics"]["1"]["abs_rel"] == pytest.approx(0.1, rel=1e-5)


class FakeOut:
    """What a pipeline call returns: ``samples`` (k, H, W)."""

    def __init__(self, samples):
        self.samples = samples


class FakePipeline:
    """Looks like a saved pipeline to evaluate_model (it has ``from_pretrained``)."""

    from_pretrained = classmethod(lambda cls, path: cls())


def test_pipeline_objects_are_called_with_samples_steps_and_generator():
    items = _items(2)
    seen = []

    class FakePipe(FakePipeline):
        def __call__(self, image, num_samples=4, num_inference_steps=20, generator=None, batch_size=None):
            seen.append((num_samples, num_inference_steps, batch_size))
            return FakeOut(GTLookupPredictor(items)(image, num_samples, generator))

    res = evaluate_model(FakePipe(), ListDataset(items), "none", samples=[1, 4], steps=7, batch_size=2)
    assert seen == [(4, 7, 2), (4, 7, 2)]
    assert res["metrics"]["4"]["abs_rel"] == pytest.approx(0.2)  # median(1.1, 0.9, 1.3, 1.5) = 1.2


def test_known_camera_passes_each_items_K_to_the_pipeline():
    """With known_camera each image's own K reaches the pipeline; without it none is passed (the model's
    default field of view); an item without K is a clear error."""
    items = _items(2)
    for j, it in enumerate(items):
        it["K"] = np.array([[10.0 + j, 0, 8], [0, 10.0 + j, 6], [0, 0, 1]])
    seen = []

    class FakePipe(FakePipeline):
        def __call__(self, image, num_samples=1, generator=None, K=None):
            seen.append(None if K is None else float(K[0, 0]))
            factor = 1.0 if K is not None else 2.0  # a camera-aware fake: right only with the true camera
            return FakeOut(GTLookupPredictor(items, (factor,) * 4)(image, num_samples, generator))

    known = evaluate_model(FakePipe(), ListDataset(items), "none", known_camera=True)
    assert seen == [10.0, 11.0] and known["known_camera"] is True
    assert known["metrics"]["1"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)
    seen.clear()
    assumed = evaluate_model(FakePipe(), ListDataset(items), "none")
    assert seen == [None, None] and assumed["metrics"]["1"]["abs_rel"] == pytest.approx(1.0)
    del items[1]["K"]
    with pytest.raises(ValueError, match="no camera K"):
        evaluate_model(FakePipe(), ListDataset(items), "none", known_camera=True)


def test_bad_arguments():
    items = _items(1)
    with pytest.raises(ValueError, match="sample counts"):
        evaluate_model(GTLookupPredictor(items), ListDataset(items), "none", samples=[0])
    with pytest.raises(ValueError, match="unknown protocol"):
        evaluate_model(GTLookupPredictor(items), ListDataset(items), "eth3d")
    with pytest.raises(ValueError, match="expected \\(k, H, W\\)"):
        evaluate_model(lambda rgb, k, g: np.ones((1, 12, 16)), ListDataset(items), "none", samples=[2])
    with pytest.raises(ValueError, match="empty"):
        evaluate_model(GTLookupPredictor(items), ListDataset([]), "none")


# ------------------------------------------------------------------------------------------------- the CLI
@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "data"
    for i, it in enumerate(_items(2)):
        write_folder_sample(root, it["name"], it["rgb"], it["depth"], depth_scale=1000)
    write_folder_meta(root, 1000)
    return root


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_cli_missing_model_exits_2_with_one_line(folder, tmp_path, capsys):
    code = main(["--model", str(tmp_path / "no_such_model"), "--data", f"folder:{folder}",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert "model folder not found" in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, message", [
    (["--data", "folder:{folder}", "--protocol", "eth3d"], "unknown protocol"),
    (["--data", "nonsense:x"], "unknown data form"),
    (["--data", "folder:{folder}/missing"], "dataset folder not found"),
    (["--data", "kitti:a:b"], "must be kitti:"),
    (["--data", "folder:{folder}", "--samples", "0"], "--samples"),
    (["--data", "folder:{folder}", "--crop", "square"], "unknown crop"),
    (["--data", "folder:{folder}", "--steps", "many"], "invalid int value"),
    ([], "required"),
])
def test_cli_bad_input_exits_2(folder, tmp_path, capsys, args, message):
    model = tmp_path / "model"
    model.mkdir()
    args = [a.replace("{folder}", str(folder)) for a in args]
    assert main((["--model", str(model)] if args else []) + args) == 2
    assert message in _one_error_line(capsys)


def test_cli_with_a_fake_pipeline_writes_results(folder, tmp_path, capsys, monkeypatch):
    import depthgen.evaluation.evaluate as ev

    items = [FolderDataset(folder)[i] for i in range(2)]

    class FakePipe:
        def __call__(self, image, num_samples=4, num_inference_steps=20, generator=None, batch_size=None):
            return FakeOut(GTLookupPredictor(items)(image, num_samples, generator))

    monkeypatch.setattr(ev, "load_pipeline", lambda path, device: FakePipe())
    out = tmp_path / "out"
    code = main(["--model", "ignored", "--data", f"folder:{folder}", "--samples", "1", "2", "--out", str(out),
                 "--quiet", "--device", "cpu"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| 1 | 0.100 |" in printed and "results.json" in printed
    saved = json.loads((out / "results.json").read_text())
    assert saved["metrics"]["1"]["abs_rel"] == pytest.approx(0.1, abs=1e-3)  # 1 mm PNG quantisation
    assert saved["data"] == f"folder:{folder}" and saved["device"] == "cpu"
    assert (out / "results.md").is_file()
