"""Recipe loading: every shipped recipe parses, inheritance works, bad values give one-line errors."""

from pathlib import Path

import pytest

from depthgen.config import load_config
from depthgen.recipe import Recipe

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "depthgen"


@pytest.mark.parametrize("name", ["tiny", "debug", "pretrain", "inpaint", "finetune", "regression"])
def test_recipes_load(name):
    r = load_config(Recipe, CONFIGS / f"{name}.yaml")
    assert r.name == name


def test_inheritance_and_overrides():
    r = load_config(Recipe, CONFIGS / "finetune.yaml", ["diffusion.loss=l2", "train.batch_size=8"])
    assert r.stage == "finetune" and r.model.preset == "small"  # from pretrain.yaml
    assert r.diffusion.loss == "l2" and r.train.batch_size == 8
    assert r.train.init_from == "runs/pretrain"
    assert load_config(Recipe, CONFIGS / "regression.yaml").stage == "regression"
    long = load_config(Recipe, CONFIGS / "finetune_long.yaml")
    assert long.train.init_from == "runs/finetune" and long.diffusion.t_shift == 3.0
    assert long.diffusion.sud_prob == 0.25 and long.data.target == "sensor_depth"  # inherited
    assert load_config(Recipe, CONFIGS / "regression_long.yaml").stage == "regression"
    assert long.diffusion.loss_reduction == "pixel"  # the default: the older recipes keep their loss
    for name in ("finetune_c3", "regression_c3"):  # the equal-budget pair both average per image
        c3 = load_config(Recipe, CONFIGS / f"{name}.yaml")
        assert c3.diffusion.loss_reduction == "image" and c3.train.max_steps == 900


@pytest.mark.parametrize("override, words", [
    ("stage=bogus", "stage"),
    ("diffusion.loss=l3", "diffusion.loss"),
    ("diffusion.prediction_type=x", "prediction_type"),
    ("diffusion.sud_prob=1.5", "sud_prob"),
    ("diffusion.t_shift=0", "t_shift"),
    ("diffusion.loss_reduction=batch", "loss_reduction"),
    ("diffusion.loss_region=mask", "loss_region"),
    ("tasks.names=[colorize,paint]", "tasks.names"),
    ("data.kind=web", "data.kind"),
    ("train.batch_size=0", "batch_size"),
    ("model.sample_size=30", "sample_size"),
    ("depth.d_min=100", "d_min"),
    ("train.nope=1", "nope"),
])
def test_bad_values(override, words):
    with pytest.raises(ValueError, match=words):
        load_config(Recipe, CONFIGS / "tiny.yaml", [override])
