"""Inference: batched, length-sorted `predict` that keeps input order, and the HF pipeline path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .saved import model_lexical_weight, model_logit_shift, model_temperature, model_threshold


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts: pass a list of strings, not one string (wrap it: [text]).")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__} ({t!r:.40}); every text must be a str.")
    return texts


def predict_logits(
    texts: Sequence[str],
    model,
    tokenizer,
    batch_size: int = 64,
    max_length: int = 256,
    progress: bool = False,
    lexical: bool = True,
) -> np.ndarray:
    """The model's logits, (n, classes) float32, in input order (batched by length).

    A model saved with a lexical part (toxlab.lexical) gets it blended into the toxic margin;
    lexical=False gives the transformer's own logits."""
    import torch
    from tqdm.auto import tqdm

    texts = _check_texts(texts)
    if not texts:
        return np.empty((0, model.config.num_labels), dtype=np.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()

    # tokenize once, then batch by length so padding stays small
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    order = np.argsort([-len(ids) for ids in encoded["input_ids"]], kind="stable")
    logits = np.empty((len(texts), model.config.num_labels), dtype=np.float32)  # (n, classes)
    starts = range(0, len(texts), batch_size)
    try:
        with torch.inference_mode():
            for start in tqdm(starts, desc="predict", unit="batch", disable=not progress):
                idx = order[start : start + batch_size]
                batch = tokenizer.pad([{k: encoded[k][i] for k in encoded} for i in idx], return_tensors="pt")
                logits[idx] = model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu().numpy()
    finally:
        model.train(was_training)
    if lexical:
        from .lexical import blend, lexical_log_odds, model_lexical

        pipe = model_lexical(model)
        if pipe is not None:
            logits = blend(logits, lexical_log_odds(pipe, texts), model_lexical_weight(model))
    return logits


def probabilities(logits: np.ndarray, temperature: float | None = None, shift: float | None = None) -> np.ndarray:
    """Softmax of (n, classes) logits, divided by `temperature` first and with `shift` added to the toxic
    (last) logit when given: for two classes, P(toxic) = sigmoid(margin / T + shift)."""
    import torch

    z = torch.from_numpy(np.array(logits, dtype=np.float32))  # a copy: the shift is added in place
    if temperature is not None:
        z = z / float(temperature)
    if shift is not None:
        z[:, -1] += float(shift)
    return torch.softmax(z, dim=-1).numpy()


def predict(
    texts: Sequence[str],
    model,
    tokenizer,
    batch_size: int = 64,
    threshold: float | None = None,
    max_length: int = 256,
    progress: bool = False,
) -> list[dict]:
    """Score texts: per input {label, score, p_non_toxic, p_toxic}, in input order.

    A model saved with a temperature (toxlab.calibration) gives calibrated probabilities:
    softmax(logits / T), with its toxic-logit shift added when it has one; one without gives
    softmax(logits), as before."""
    texts = _check_texts(texts)
    if not texts:
        return []
    threshold = model_threshold(model) if threshold is None else float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold={threshold}: must lie in [0, 1].")
    probs = probabilities(predict_logits(texts, model, tokenizer, batch_size, max_length, progress),
                          model_temperature(model), model_logit_shift(model))  # (n, 2)

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
