"""Quality on the 440 scored real test rows: a toxlab model against alt-profanity-check.

alt-profanity-check is a linear model trained on the full Jigsaw train set; it is the
peer to beat. Install it with the `bench` extra: pip install -e ".[bench]".

Usage: python bench/quality.py --model saved_models/best_model [--out bench/results]
       (train one first: toxlab train --data ../shared/data/jigsaw-sample --preset quick --out DIR)
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from toxlab.data import load_jigsaw
from toxlab.inference import model_threshold, predict
from toxlab.metrics import scores
from toxlab.models import load_classifier, quiet

ROOT = Path(__file__).resolve().parents[1]


def peer_scores(texts: list[str], labels: list[int]) -> dict:
    """alt-profanity-check's figures at 0.5 and 0.7."""
    from profanity_check import predict_prob

    p = predict_prob(texts).tolist()
    return {"at_0.5": scores(labels, p, 0.5), "at_0.7": scores(labels, p, 0.7)}


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="saved toxlab model folder")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "jigsaw-sample"), help="Kaggle folder")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="where quality.json goes")
    a = ap.parse_args()

    quiet()
    test = load_jigsaw(a.data)["test"]
    texts, labels = list(test["comment_text"]), list(test["label"])
    model, tokenizer = load_classifier(a.model)
    p = [r["p_toxic"] for r in predict(texts, model, tokenizer)]
    t = model_threshold(model)
    result = {"rows": len(texts), "toxlab": {"model": a.model, "at_threshold": scores(labels, p, t),
                                             "at_0.5": scores(labels, p, 0.5)},
              "alt-profanity-check": peer_scores(texts, labels)}
    print(f"\n{'model':<34}{'ROC-AUC':>9}{'macro F1':>10}{'threshold':>11}")
    rows = [("toxlab @ saved threshold", result["toxlab"]["at_threshold"]),
            ("toxlab @ 0.5", result["toxlab"]["at_0.5"]),
            ("alt-profanity-check @ 0.5", result["alt-profanity-check"]["at_0.5"]),
            ("alt-profanity-check @ 0.7", result["alt-profanity-check"]["at_0.7"])]
    for name, s in rows:
        print(f"{name:<34}{s['roc_auc']:>9.4f}{s['f1']:>10.4f}{s['threshold']:>11.3f}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out / 'quality.json'}")
    return result


if __name__ == "__main__":
    main()
