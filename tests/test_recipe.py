"""toxlab.recipe: one recipe per preset, and lab modes that name a preset and change fields visibly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from toxlab.recipe import DEFAULT_PRESET, PRESETS, Preset, get_preset, preset_args, training_args

ROOT = Path(__file__).resolve().parents[1]
PRESET_FIELDS = {f.name for f in dataclasses.fields(Preset)} - {"args"}


def notebook_make_training_args():
    """Exercise 6's solution, from the instructor notebook: what the notebook calls with cfg.training_args."""
    nb = json.loads((ROOT / "source/toxicity_lab/toxicity_lab.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "make_training_args")
    from transformers import TrainingArguments

    scope = {"TrainingArguments": TrainingArguments}
    exec("".join(cell["source"]), scope)
    return scope["make_training_args"]


def mode_drift(cfg, tmp_path) -> list[str]:
    """How a lab mode's effective TrainingArguments stray from its preset plus the overrides it names:
    fields that differ from that, and overrides that restate the preset (a copy, not a change)."""
    named = {k: v for k, v in cfg.overrides.items() if k not in PRESET_FIELDS}
    effective = notebook_make_training_args()(str(tmp_path), **cfg.training_args).to_dict()
    expected = training_args(cfg.preset, tmp_path, **named).to_dict()
    drift = [f"{k}: trains with {effective[k]!r}, the preset plus its overrides say {expected[k]!r}"
             for k in expected if effective[k] != expected[k]]
    preset = preset_args(cfg.preset)
    drift += [f"{k}={v!r} restates the preset" for k, v in named.items() if k in preset and preset[k] == v]
    recipe = get_preset(cfg.preset)
    drift += [f"{k}={v!r} restates the preset" for k, v in cfg.overrides.items()
              if k in PRESET_FIELDS and getattr(recipe, k) == v]
    return drift


@pytest.mark.parametrize("mode", ["grade", "cpu", "gpu"])
def test_each_lab_mode_trains_with_its_preset_plus_the_overrides_it_names(mode, tmp_path, monkeypatch):
    from toxlab.labs.toxicity_lab.modes import lab_config

    monkeypatch.chdir(tmp_path)  # run_dir() names a folder under ./saved_models (never created here)
    cfg = lab_config(mode)
    assert cfg.preset in PRESETS
    assert mode_drift(cfg, tmp_path) == []
    assert cfg.max_train_samples == cfg.recipe.max_train_samples and cfg.toxic_share == cfg.recipe.toxic_share


def test_a_mode_that_strays_from_its_preset_is_caught(tmp_path):
    from fixtures.wrong_modes import WRONG

    for name, cfg in WRONG.items():
        assert mode_drift(cfg, tmp_path), f"mode_drift missed a mode that {name}"


def test_one_default_preset():
    import inspect

    from toxlab.cli import TrainArgs
    from toxlab.training import train

    assert DEFAULT_PRESET in PRESETS
    assert inspect.signature(train).parameters["preset"].default == DEFAULT_PRESET
    assert next(f for f in dataclasses.fields(TrainArgs) if f.name == "preset").default == DEFAULT_PRESET


def test_but_changes_only_what_it_names():
    cpu = PRESETS["cpu"]
    quick = PRESETS["quick"]
    assert quick.args == {**cpu.args, "eval_strategy": "steps", "save_strategy": "steps", "eval_steps": 0.5,
                          "save_steps": 0.5}
    assert (quick.max_length, quick.lexical_weight, quick.toxic_share) == (cpu.max_length, None, None)
    changed = cpu.but(learning_rate=1e-4, max_length=64)
    assert changed.args == {**cpu.args, "learning_rate": 1e-4} and changed.max_length == 64
    assert PRESETS["cpu"] == cpu  # the preset itself is untouched
    with pytest.raises(ValueError, match="choose one of"):
        get_preset("fast")


def test_subset_indices_are_the_rows_training_subset_draws(demo_dir):
    """train() scores the pool rows outside subset_indices as unseen: they must be exactly the ones
    training_subset leaves out, enriched or stratified."""
    from toxlab.data import load_jigsaw
    from toxlab.recipe import subset_indices, training_subset

    pool = load_jigsaw(demo_dir, verbose=False)["train"]
    for n, share in ((100, 0.3), (100, None), (None, None), (10_000, None)):
        idx = subset_indices(pool, n, share, seed=7)
        assert pool.select(idx)["comment_text"] == training_subset(pool, n, share, seed=7)["comment_text"]
