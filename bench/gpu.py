"""GPU benchmark: the original recipe against toxlab's `gpu` preset, on bert-base-uncased's architecture.

Nothing is downloaded: the model is BertConfig() (bert-base-uncased's shape) with random weights,
and the "text" is random token ids whose lengths follow Jigsaw's (token-length percentiles of the
real train rows, measured with the uncased WordPiece vocab and truncated at 256).

  original : fp32, every comment padded to 256, random batches of 16
  gpu      : toxlab's gpu preset (bf16 or fp16, dynamic padding, length-grouped batches of 16)

It prints samples/s for each and the projected time of 3 epochs on the full 159,571 rows
(the original lab took 8,633 s on a V100). Usage: python bench/gpu.py [--steps 60] [--smoke]
`--smoke` runs a tiny model for a few steps on the CPU, to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from transformers import BertConfig, BertForSequenceClassification, DataCollatorWithPadding, PreTrainedTokenizerFast

from toxlab.models import quiet
from toxlab.recipe import get_preset, training_args
from toxlab.training import WeightedTrainer

# token-length percentiles 0, 5, ..., 100 of real Jigsaw train comments (toxlab tokenizer, max 256)
JIGSAW_LENGTH_PERCENTILES = [5, 11, 15, 19, 23, 27, 32, 36, 41, 46, 52, 58, 66, 76, 87, 103, 123, 151, 195, 256, 256]
FULL_TRAIN_ROWS = 159_571
V100_ORIGINAL_S = 8_633


def synthetic_lengths(n: int, seed: int = 0) -> np.ndarray:
    """n lengths drawn from Jigsaw's distribution (inverse CDF over the percentiles)."""
    u = np.random.default_rng(seed).random(n) * 100
    return np.interp(u, np.arange(0, 101, 5), JIGSAW_LENGTH_PERCENTILES).round().astype(int)


def synthetic_dataset(n: int, pad_to: int | None, vocab: int = 30522, seed: int = 0) -> Dataset:
    """Token-id rows with [CLS] ... [SEP], padded to `pad_to` when given; labels ~10% toxic."""
    rng = np.random.default_rng(seed)
    rows = {"input_ids": [], "attention_mask": [], "label": []}
    for length in synthetic_lengths(n, seed):
        ids = [101, *rng.integers(1000, vocab, max(length - 2, 0)).tolist(), 102]
        mask = [1] * len(ids)
        if pad_to:
            mask += [0] * (pad_to - len(ids))
            ids += [0] * (pad_to - len(ids))
        rows["input_ids"].append(ids)
        rows["attention_mask"].append(mask)
        rows["label"].append(int(rng.random() < 0.1))
    return Dataset.from_dict(rows)


def pad_tokenizer() -> PreTrainedTokenizerFast:
    """A tokenizer object for DataCollatorWithPadding only (pad id 0); it never tokenizes text."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({"[PAD]": 0, "[UNK]": 100}, unk_token="[UNK]")))
    tok.pad_token = "[PAD]"
    return tok


def run(name: str, config: BertConfig, preset: str, pad_to: int | None, sampling: str, steps: int, **kw) -> float:
    """Samples/s over `steps` optimizer steps of the preset's batch (Trainer's own runtime figure)."""
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    ds = synthetic_dataset(steps * get_preset(preset).args["per_device_train_batch_size"], pad_to)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_args(preset, tmp, max_steps=steps, eval_strategy="no", save_strategy="no",
                             load_best_model_at_end=False, train_sampling_strategy=sampling, disable_tqdm=True, **kw)
        trainer = WeightedTrainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(pad_tokenizer()),
                                  class_weights=torch.tensor([0.1, 0.9]))
        rate = trainer.train().metrics["train_samples_per_second"]
    print(f"{name:<10} {rate:9.1f} samples/s  ({'bf16' if args.bf16 else 'fp16' if args.fp16 else 'fp32'})")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60, help="optimizer steps per measurement")
    ap.add_argument("--smoke", action="store_true", help="tiny model, few steps, CPU: checks the script runs")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"), help="where gpu.json goes")
    a = ap.parse_args()
    quiet()
    if a.smoke:
        config, steps, extra = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                          intermediate_size=64), 3, {"use_cpu": True}
    else:
        assert torch.cuda.is_available(), "bench/gpu.py needs a CUDA GPU (use --smoke to check it on a CPU)"
        config, steps, extra = BertConfig(), a.steps, {}  # BertConfig() is bert-base-uncased's architecture
    config.num_labels = 2
    original = run("original", config, "seed", 256, "random", steps, **extra)
    gpu = run("gpu", config, "gpu", None, "group_by_length", steps, dataloader_num_workers=0 if a.smoke else 4, **extra)
    epochs = 3 * FULL_TRAIN_ROWS
    result = {
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu (smoke)",
        "original_samples_per_s": original, "gpu_preset_samples_per_s": gpu, "ratio": gpu / original,
        "projected_3_epochs_s": {"original": epochs / original, "gpu_preset": epochs / gpu,
                                 "v100_original_lab": V100_ORIGINAL_S},
    }
    print(f"ratio {gpu / original:.2f}x; 3 epochs on {FULL_TRAIN_ROWS:,} rows: original {epochs / original:,.0f} s, "
          f"gpu preset {epochs / gpu:,.0f} s (the original lab: {V100_ORIGINAL_S:,} s on a V100)")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / ("gpu-smoke.json" if a.smoke else "gpu.json")).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
