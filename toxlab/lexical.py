"""A TF-IDF linear model beside the transformer: fitted in seconds, blended into its toxic logit.

Why: on a 2-core CPU the fine-tuned MiniLM sees ~9,000 rows once. A word and character n-gram
model fitted on the same rows knows every spelling it saw (obfuscated slurs, rare insults) and
errs differently, so a small share of its log-odds in the toxic margin lifts ROC-AUC and, more,
the macro-F1 at the threshold chosen on validation (bench/quality.py measures both).

The blend, for a two-class model with logits (n, 2):
    margin = logit_toxic - logit_non_toxic               # the transformer's log-odds
    blended = (1 - w) * margin + w * lexical_log_odds    # w = config.toxlab_lexical_weight (toxlab.saved)
and the blended logits are [0, blended], so softmax, temperature, shift and threshold work unchanged.
The fitted model is saved next to the weights as lexical.npz: the n-gram vocabularies, IDF weights and
coefficients as plain arrays (no pickle, so loading runs no code; skops took over 7 minutes to write
the 300,000-entry vocabularies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from . import saved

_CACHE = "_toxlab_lexical"  # attribute that keeps the loaded pipeline on the model object

# word and character n-grams: each TfidfVectorizer's settings (saved with the model, so a later change
# here never alters how an older model reads text)
VECTORIZERS = (
    dict(analyzer="word", ngram_range=(1, 2), min_df=2, max_features=100_000, sublinear_tf=True),
    dict(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=200_000, sublinear_tf=True),
)

def fit_lexical(texts: Sequence[str], labels: Sequence[int], C: float = 4.0):
    """Word 1-2-grams and character 2-5-grams, TF-IDF, class-balanced logistic regression (seconds on 9k rows)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"fit_lexical: {len(texts)} texts but {len(labels)} labels; pass one label per text.")
    if len(np.unique(labels)) < 2:
        raise ValueError("fit_lexical: the labels hold one class only; it needs toxic and non-toxic rows.")
    pipe = make_pipeline(make_union(*(TfidfVectorizer(**v) for v in VECTORIZERS)),
                         LogisticRegression(C=C, max_iter=2000, class_weight="balanced"))
    return pipe.fit(list(texts), labels)


def lexical_log_odds(pipe, texts: Sequence[str]) -> np.ndarray:
    """The lexical model's log-odds of toxic, (n,) float32."""
    if not len(texts):
        return np.empty(0, dtype=np.float32)
    return pipe.decision_function(list(texts)).astype(np.float32)


def blend(logits: np.ndarray, log_odds: np.ndarray, weight: float) -> np.ndarray:
    """Two-class logits (n, 2) whose toxic margin is (1 - weight) * margin + weight * log_odds."""
    logits = np.asarray(logits, dtype=np.float32)
    assert logits.ndim == 2 and logits.shape[1] == 2, f"blend needs two-class logits (n, 2), got {logits.shape}"
    assert len(log_odds) == len(logits), f"{len(log_odds)} lexical scores for {len(logits)} logits rows"
    assert 0.0 <= weight <= 1.0, f"lexical weight {weight} must lie in [0, 1]"
    margin = logits[:, 1] - logits[:, 0]  # (n,)
    out = np.zeros_like(logits)
    out[:, 1] = (1.0 - weight) * margin + weight * np.asarray(log_odds, dtype=np.float32)
    return out


def save_lexical(pipe, folder: str | Path) -> Path:
    """Write the fitted pipeline to folder/lexical.npz as plain arrays."""
    union, lr = pipe[0], pipe[-1]
    arrays, settings = {"coef": lr.coef_, "intercept": lr.intercept_, "classes": lr.classes_}, []
    for i, (_, vec) in enumerate(union.transformer_list):
        arrays[f"terms{i}"] = np.array(sorted(vec.vocabulary_, key=vec.vocabulary_.get))  # (features,) in column order
        arrays[f"idf{i}"] = vec.idf_
        settings.append({k: getattr(vec, k) for k in VECTORIZERS[0]})
    arrays["settings"] = np.array(json.dumps(settings))
    path = saved.lexical_path(folder)
    np.savez_compressed(path, **arrays)
    return path


def load_lexical(folder: str | Path):
    """Rebuild the pipeline from folder/lexical.npz (arrays only: loading runs no code)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    path = saved.lexical_path(folder)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: missing. The model's config.json has {saved.LEXICAL_WEIGHT_KEY}, so its TF-IDF part belongs in this file; "
            "copy it along with the model folder, or retrain (toxlab train)."
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            settings = json.loads(str(z["settings"]))
            vecs = []
            for i, kw in enumerate(settings):
                terms = z[f"terms{i}"].tolist()
                vec = TfidfVectorizer(**{**kw, "ngram_range": tuple(kw["ngram_range"])},
                                      vocabulary=dict(zip(terms, range(len(terms)))))
                vec.idf_ = z[f"idf{i}"]
                vecs.append(vec)
            lr = LogisticRegression()
            lr.coef_, lr.intercept_, lr.classes_ = z["coef"], z["intercept"], z["classes"]
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: not a TF-IDF part written by toxlab.lexical.save_lexical ({e}). "
                         f"Retrain, or delete the file and the config key {saved.LEXICAL_WEIGHT_KEY}.") from None
    return make_pipeline(make_union(*vecs), lr)


def attach_lexical(model, pipe, weight: float) -> None:
    """Give an in-memory model its lexical part (as train() does before it saves both)."""
    saved.set_lexical_weight(model, weight)
    setattr(model, _CACHE, pipe)


def model_lexical(model):
    """The lexical pipeline of a model that has one (loaded once from its folder), else None."""
    if saved.model_lexical_weight(model) is None:
        return None
    pipe = getattr(model, _CACHE, None)
    if pipe is None:
        pipe = load_lexical(model.name_or_path)
        setattr(model, _CACHE, pipe)
    return pipe


def detach_lexical(model) -> None:
    """Forget a model's lexical part (fine-tuning it further makes the old blend stale)."""
    saved.clear_lexical_weight(model)
    if hasattr(model, _CACHE):
        delattr(model, _CACHE)
