"""Throughput on this machine: toxlab's cpu path against the original recipe, in one run.

  training : samples/s of the `cpu` preset (truncate to 128, dynamic padding, length-grouped batches)
             vs the original (pad every comment to 256, random batches)
  inference: toxlab.inference.predict (length-sorted batches) vs a transformers pipeline given the
             same batch size and truncation (so the ratio measures the length sorting alone)

Both sides use the same real rows (../shared/data/jigsaw-sample) and the same MiniLM.
Prints a table and writes JSON. Usage: python bench/throughput.py [--steps 30] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from toxlab.data import load_jigsaw
from toxlab.inference import make_pipeline, predict
from toxlab.models import load_classifier, quiet
from toxlab.recipe import PRESETS, training_args
from toxlab.training import WeightedTrainer, make_tokenize_function, prepare_for_training
from transformers import DataCollatorWithPadding

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class BenchArgs:
    data: str = field(default=str(ROOT.parent / "shared" / "data" / "jigsaw-sample"))  # Kaggle folder
    steps: int = 30  # optimizer steps per training measurement (batch 16)
    n_infer: int = 440  # texts for the inference measurement
    batch_size: int = 64  # inference batch size, for predict and the pipeline alike
    max_length: int = 256  # inference truncation, for predict and the pipeline alike
    out: str = str(ROOT / "bench" / "results")  # where throughput.json goes


def train_rate(ds, tokenizer, preset: str, sampling: str, steps: int) -> float:
    """Samples per second of `steps` optimizer steps with the cpu preset's batch, tokenized as `preset` does."""
    model, _ = load_classifier("minilm")
    recipe = PRESETS[preset]
    tok = ds.map(make_tokenize_function(tokenizer, recipe.max_length, recipe.pad_to_max_length), batched=True)
    train_ds = prepare_for_training(tok)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_args("cpu", tmp, max_steps=steps, train_sampling_strategy=sampling,
                             eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                             disable_tqdm=True, use_cpu=not torch.cuda.is_available())
        trainer = WeightedTrainer(model=model, args=args, train_dataset=train_ds, processing_class=tokenizer,
                                  data_collator=DataCollatorWithPadding(tokenizer), class_weights=torch.tensor([0.1, 0.9]))
        metrics = trainer.train().metrics
    return metrics["train_samples_per_second"]


def infer_rates(texts, model, tokenizer, batch_size: int = 64, max_length: int = 256) -> tuple[float, float]:
    """(toxlab predict, pipeline) texts per second on the same texts, batch size and truncation."""
    predict(texts[:8], model, tokenizer, batch_size=batch_size, max_length=max_length)  # warm-up
    t = time.perf_counter()
    predict(texts, model, tokenizer, batch_size=batch_size, max_length=max_length)
    ours = len(texts) / (time.perf_counter() - t)
    pipe = make_pipeline(model, tokenizer)
    pipe(texts[:8], truncation=True, max_length=max_length, batch_size=batch_size)
    t = time.perf_counter()
    pipe(texts, truncation=True, max_length=max_length, batch_size=batch_size)
    theirs = len(texts) / (time.perf_counter() - t)
    return ours, theirs


def main(a: BenchArgs) -> dict:
    quiet()
    # --- data: the same real rows for both sides ---
    ds = load_jigsaw(a.data)
    rows = ds["train"].shuffle(seed=0).select(range(a.steps * 16))
    model, tokenizer = load_classifier("minilm")

    # --- training ---
    original = train_rate(rows, tokenizer, "seed", sampling="random", steps=a.steps)  # pad to 256, random batches
    cpu = train_rate(rows, tokenizer, "cpu", sampling="group_by_length", steps=a.steps)

    # --- inference ---
    texts = list(ds["test"]["comment_text"])[: a.n_infer]
    ours, pipeline_rate = infer_rates(texts, model, tokenizer, a.batch_size, a.max_length)

    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "training": {"original_samples_per_s": original, "cpu_samples_per_s": cpu, "ratio": cpu / original,
                     "goal": 3.5, "rows": len(rows)},
        "inference": {"toxlab_texts_per_s": ours, "pipeline_texts_per_s": pipeline_rate,
                      "ratio": ours / pipeline_rate, "goal": 3.0, "texts": len(texts),
                      "batch_size": a.batch_size, "max_length": a.max_length},
    }
    print(f"\n{'measure':<12}{'baseline /s':>14}{'toxlab /s':>12}{'ratio':>8}{'goal':>7}")
    t, i = result["training"], result["inference"]
    print(f"{'training':<12}{t['original_samples_per_s']:>14.1f}{t['cpu_samples_per_s']:>12.1f}{t['ratio']:>7.2f}x{'3.5x':>7}")
    print(f"{'inference':<12}{i['pipeline_texts_per_s']:>14.1f}{i['toxlab_texts_per_s']:>12.1f}{i['ratio']:>7.2f}x{'3.0x':>7}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "throughput.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out / 'throughput.json'}")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in BenchArgs.__dataclass_fields__.values():
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    main(BenchArgs(**vars(p.parse_args())))
