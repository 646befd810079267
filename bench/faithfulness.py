"""Faithfulness of toxlab's attribution methods against a random ranking, in one table.

For each of n scored test comments (a seeded random sample of the non-empty ones) every method
attributes P(toxic) to the words (pieces merged by sum); ERASER's AOPC (DeYoung et al. 2020) then
removes the top 1, 5, 10, 20, 50% words (comprehensiveness: the drop in P(toxic); higher is better)
or keeps only them (sufficiency: the drop; LOWER is better). seconds/text times the attribution alone.
A method that does not beat random on both is not telling us what the model used.

The same table is printed for the subset of those comments the model flags as toxic (at its saved
threshold): on the rest P(toxic) is near 0 whatever is removed, so every method is close to random.

Usage: python bench/faithfulness.py [--model DIR] [--data DIR] [--n 100] [--seed 0] [--threads 2]
Without --model it trains MiniLM with `toxlab train --preset quick` on --data once (about 4-7 minutes
on 2 cores) and reuses it from $TOXLAB_CACHE (default ~/.cache/toxlab)/bench-faithfulness-quick.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from toxlab.data import load_jigsaw
from toxlab.explain import FAITHFULNESS_NOTE, KS, METHODS, faithfulness, faithfulness_table
from toxlab.inference import predict
from toxlab.models import load_classifier, quiet
from toxlab.saved import model_threshold

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def cached_quick_model(data: str) -> Path:
    """A MiniLM trained with the quick preset on `data`, trained on first use and then reused."""
    cache = Path(os.environ.get("TOXLAB_CACHE", Path.home() / ".cache" / "toxlab"))
    out = cache / "bench-faithfulness-quick"
    if not (out / "config.json").is_file():
        from toxlab.cli import main as toxlab

        print(f"training a quick MiniLM into {out} (once; minutes)", flush=True)
        status = toxlab(["train", "--preset", "quick", "--data", data, "--out", str(out), "--cpu", "--force"])
        if status:
            raise SystemExit(f"toxlab train failed with status {status}")
    return out


def sample_texts(data: str, n: int, seed: int) -> list[str]:
    """n non-empty scored test comments, a seeded random sample kept in file order."""
    texts = [t for t in load_jigsaw(data, verbose=False)["test"]["comment_text"] if t.strip()]
    if len(texts) > n:
        texts = [texts[i] for i in np.sort(np.random.default_rng(seed).choice(len(texts), n, replace=False))]
    return texts


def verdicts(table) -> dict[str, str]:
    """For each method: does it beat random on comprehensiveness (higher) and sufficiency (lower)?"""
    rnd = table.set_index("method").loc["random"]
    out = {}
    for _, r in table.iterrows():
        if r["method"] != "random":
            comp, suff = r["comprehensiveness"] > rnd["comprehensiveness"], r["sufficiency"] < rnd["sufficiency"]
            out[r["method"]] = "beats random on both" if comp and suff else \
                f"does NOT beat random ({'comp ok' if comp else 'comp worse'}, {'suff ok' if suff else 'suff worse'})"
    return out


def print_table(title: str, table) -> None:
    """The table with a header saying which direction is better, and the verdicts."""
    print(f"\n{title}")
    head = f"{'method':<11}{'comprehensiveness (higher better)':>35}{'sufficiency (LOWER better)':>30}{'s/text':>9}{'texts':>7}"
    print(head + "\n" + "-" * len(head))
    for _, r in table.iterrows():
        print(f"{r['method']:<11}{r['comprehensiveness']:>35.4f}{r['sufficiency']:>30.4f}"
              f"{r['seconds_per_text']:>9.3f}{int(r['n_texts']):>7}")
    for method, verdict in verdicts(table).items():
        print(f"  {method}: {verdict}")


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="saved model folder (default: a cached quick-preset MiniLM)")
    ap.add_argument("--data", default=str(SHARED / "jigsaw-sample"), help="Kaggle folder (train and scored test rows)")
    ap.add_argument("--n", type=int, default=100, help="test comments to explain")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample and of the random baseline")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--out", default=None, help="also write faithfulness.json here")
    a = ap.parse_args()

    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    quiet()
    model_dir = Path(a.model) if a.model else cached_quick_model(a.data)
    model, tokenizer = load_classifier(model_dir)
    texts = sample_texts(a.data, a.n, a.seed)
    methods = [*METHODS, "random"]
    t = time.perf_counter()
    per_text = faithfulness(model, tokenizer, texts, methods=methods, seed=a.seed, per_text=True, progress=True)
    wall = time.perf_counter() - t
    threshold = model_threshold(model)
    flagged_idx = {i for i, r in enumerate(predict(texts, model, tokenizer)) if r["label"] == model.config.id2label[1]}
    tables = {"all": faithfulness_table(per_text, methods),
              "flagged": faithfulness_table(per_text[per_text["text_index"].isin(flagged_idx)], methods)}
    print(f"\nmodel {model_dir}; {len(texts)} test comments from {a.data} (seed {a.seed}); "
          + FAITHFULNESS_NOTE.format(ks=", ".join(map(str, KS))))
    print_table(f"all {len(texts)} comments", tables["all"])
    if flagged_idx:
        print_table(f"the {len(flagged_idx)} of them the model flags toxic (threshold {threshold:.3f})", tables["flagged"])
    print(f"\nmachine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}; {wall:.0f} s in all "
          "(attributions and the rescoring of every removal variant)")
    result = {"model": str(model_dir), "data": a.data, "n": len(texts), "seed": a.seed, "wall_s": wall,
              **{name: tab.to_dict(orient="records") for name, tab in tables.items()}}
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "faithfulness.json").write_text(json.dumps(result, indent=2))
        print(f"wrote {out / 'faithfulness.json'}")
    return result


if __name__ == "__main__":
    main()
