"""The quality gate: the quick preset on the 5,000 real rows, measured on the 440 scored test rows.

CI floors (regressions, not targets): ROC-AUC >= 0.93 and macro F1 >= 0.74 at the threshold
chosen on a validation split carved out of train, within 15 minutes on 2 cores.
"""

import json

import numpy as np
import pytest

from toxlab.data import load_jigsaw
from toxlab.inference import predict
from toxlab.metrics import scores
from toxlab.models import load_classifier, quiet


@pytest.mark.slow
@pytest.mark.timeout(15 * 60)
def test_quick_preset_on_real_data(sample_dir, tmp_path):
    from toxlab.training import train

    quiet()
    ds = load_jigsaw(sample_dir)
    model, tokenizer = load_classifier("minilm")
    res = train(ds, model, tokenizer, preset="quick", output_dir=tmp_path / "model", seed=42)

    # evaluate the saved folder, as a user would: threshold read back from it
    saved, saved_tok = load_classifier(tmp_path / "model")
    texts, labels = list(ds["test"]["comment_text"]), list(ds["test"]["label"])
    p = np.array([r["p_toxic"] for r in predict(texts, saved, saved_tok)])
    got = scores(labels, p, res.threshold)
    print(json.dumps({"test": got, "test_at_0.5": scores(labels, p, 0.5), "validation": res.validation}, indent=1))
    assert got["roc_auc"] >= 0.93, f"ROC-AUC {got['roc_auc']:.4f} fell below the 0.93 floor"
    assert got["f1"] >= 0.74, f"macro F1 {got['f1']:.4f} at threshold {res.threshold:.3f} fell below the 0.74 floor"
    labels_out = [r["label"] for r in predict(texts[:20], saved, saved_tok)]
    assert labels_out == ["Toxic" if x >= res.threshold else "Non-Toxic" for x in p[:20]], "saved threshold not used"
