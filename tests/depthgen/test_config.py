"""Recipe loading: every shipped recipe parses, inheritance works, bad values give one-line errors."""

import shlex
from pathlib import Path

import pytest

from depthgen.common.config import load_config
from depthgen.training.recipe import Recipe

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
    assert r.diffusion.loss_reduction == "pixel" and r.diffusion.t_shift == 1.0  # the first cycle's settings
    reg = load_config(Recipe, CONFIGS / "regression.yaml")
    assert reg.stage == "regression" and reg.diffusion.sud_prob == 0.0 and reg.train.max_steps == r.train.max_steps


def test_every_recipe_has_at_most_one_level_of_inheritance():
    import yaml

    for path in sorted(CONFIGS.parent.glob("*/*.yaml")):
        base = (yaml.safe_load(path.read_text()) or {}).get("base")
        if base:
            assert not (yaml.safe_load((path.parent / base).read_text()) or {}).get("base"), path


def _script_cycles():
    """(recipe path, key=value list) of every training cycle in scripts/train_embedded.sh."""
    text = (CONFIGS.parents[1] / "scripts" / "train_embedded.sh").read_text().replace("\\\n", " ")
    cycles = []
    for line in text.splitlines():
        words = shlex.split(line.split("#")[0])
        if words[:1] == ["cycle"] and not words[1].isupper():
            recipe, run, rest = CONFIGS / f"{words[1]}.yaml", words[2], words[3:]
        elif words[:1] == ["stage"] and not words[1].isupper():
            recipe, run, rest = CONFIGS.parent / "models" / "t2i" / "t2i.yaml", words[1], words[2:]
        else:
            continue
        sets = rest[:rest.index("--")] if "--" in rest else rest
        cycles.append((recipe, [f"train.output_dir=runs/{run}", *sets]))
    return cycles


def test_every_cycle_of_the_training_script_loads_and_starts_from_the_cycle_before():
    from text3d.models.t2i.config import T2IRecipe

    cycles = _script_cycles()
    assert [c[0].stem for c in cycles].count("finetune") == 6 and [c[0].stem for c in cycles].count("regression") == 6
    assert [c[0].stem for c in cycles].count("inpaint") == 4 and [c[0].stem for c in cycles].count("t2i") == 6
    runs = set()
    for recipe, sets in cycles:
        cfg = load_config(T2IRecipe if recipe.stem == "t2i" else Recipe, recipe, sets)
        init = cfg.train.init_from
        assert init is None or init.split("/checkpoint-")[0].removesuffix("/pipeline") in runs, (recipe, init)
        runs.add(cfg.train.output_dir)


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
    ("train.lr=[1,", "not valid YAML"),
    ("train.lr=!!python/name:os.system", "not valid YAML"),
])
def test_bad_values(override, words):
    with pytest.raises(ValueError, match=words):
        load_config(Recipe, CONFIGS / "tiny.yaml", [override])
