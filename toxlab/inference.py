"""Inference: batched, length-sorted `predict` that keeps input order, and the HF pipeline path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

THRESHOLD_KEY = "toxlab_threshold"  # stored in the saved model's config.json by toxlab.training.train
DEFAULT_THRESHOLD = 0.5  # equals argmax for two classes; used when a model carries no tuned threshold


def model_threshold(model) -> float:
    """The decision threshold saved with a model, or 0.5 when it has none."""
    saved = getattr(model.config, THRESHOLD_KEY, None)
    return DEFAULT_THRESHOLD if saved is None else float(saved)


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts: pass a list of strings, not one string (wrap it: [text]).")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__} ({t!r:.40}); every text must be a str.")
    return texts


def predict(
    texts: Sequence[str],
    model,
    tokenizer,
    batch_size: int = 64,
    threshold: float | None = None,
    max_length: int = 256,
    progress: bool = False,
) -> list[dict]:
    """Score texts: per input {label, score, p_non_toxic, p_toxic}, in input order."""
    import torch
    from tqdm.auto import tqdm

    texts = _check_texts(texts)
    if not texts:
        return []
    threshold = model_threshold(model) if threshold is None else float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold={threshold}: must lie in [0, 1].")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()

    # tokenize once, then batch by length so padding stays small
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    order = np.argsort([-len(ids) for ids in encoded["input_ids"]], kind="stable")
    probs = np.empty((len(texts), 2), dtype=np.float32)  # (n, 2)
    starts = range(0, len(texts), batch_size)
    with torch.inference_mode():
        for start in tqdm(starts, desc="predict", unit="batch", disable=not progress):
            idx = order[start : start + batch_size]
            batch = tokenizer.pad([{k: encoded[k][i] for k in encoded} for i in idx], return_tensors="pt")
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits  # (batch, 2)
            probs[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    model.train(was_training)

    names = model.config.id2label
    out = []
    for p0, p1 in probs:
        toxic = bool(p1 >= threshold)
        out.append({"label": names[int(toxic)], "score": float(p1 if toxic else p0),
                    "p_non_toxic": float(p0), "p_toxic": float(p1)})
    return out


def make_pipeline(model_or_path="minilm", tokenizer=None, device: str | int | None = None):
    """The original lab's `pipeline("text-classification", ...)` over a model, saved folder or Hub id."""
    from transformers import pipeline

    if isinstance(model_or_path, (str, os.PathLike, Path)):
        from .models import load_classifier

        model, tokenizer = load_classifier(model_or_path)
    else:
        model = model_or_path
        if tokenizer is None:
            raise TypeError("make_pipeline(model, tokenizer): pass the tokenizer with a model object.")
    return pipeline("text-classification", model=model, tokenizer=tokenizer, device=device)
