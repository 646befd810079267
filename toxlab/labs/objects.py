"""Objects the labs' checks ask the executor to build by name (toxlab.grading.wire.obj), and build
themselves for the truth.

Both sides build them from the same plain arguments (the executor through BUILDERS, which
toxlab/labs/grading.py registers with the grading machinery; the checks by calling these functions), so
the checker's reference answer and the student's answer come from equal inputs. Everything here is
deterministic.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

GRADING_INIT = 0.5  # a tiny BERT this wide at init gives clearly different outputs for different texts


@lru_cache(maxsize=1)
def tokenizer():
    """The lab's tokenizer (the offline MiniLM's WordPiece, uncased, 30,522 pieces)."""
    from transformers import AutoTokenizer

    from ..models import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path())


def model(seed: int = 0, train: bool = False):
    """A tiny random BERT classifier whose outputs differ clearly between texts (eval mode unless train)."""
    from ..models import tiny_bert

    m = tiny_bert(seed=seed, initializer_range=GRADING_INIT)
    return m.train(train)


def dataset(columns: dict):
    """A datasets.Dataset from {column: values}."""
    from datasets import Dataset

    return Dataset.from_dict(columns)


def column(values: list):
    """A datasets Column (what ds["split"]["label"] is in datasets 5)."""
    return dataset({"values": values})["values"]


def eval_prediction(predictions, label_ids):
    """A real transformers.EvalPrediction."""
    from transformers import EvalPrediction

    return EvalPrediction(predictions=np.asarray(predictions), label_ids=np.asarray(label_ids))


def tensor(values, dtype: str = "float32"):
    """A torch tensor."""
    import torch

    return torch.tensor(np.asarray(values), dtype=getattr(torch, dtype))


def lookup_scorer(table: dict):
    """A scoring function: texts -> [table[text] ...]; an unknown text raises KeyError naming it."""

    def score(texts):
        return [table[t] for t in texts]

    return score


def word_scorer(weights: dict, bias: float = 0.0, pairs: dict | None = None):
    """A scoring function on any texts: P(toxic) = sigmoid(bias + the weights of the text's words, each time
    it occurs, + the weights of its adjacent word pairs ("you idiot"), so that word order counts); words split
    on whitespace, unknown ones weigh 0. A single string is refused, with the fix."""
    import math

    pairs = pairs or {}

    def logit(text: str) -> float:
        words = text.split()
        return (bias + sum(weights.get(w, 0.0) for w in words)
                + sum(pairs.get(f"{a} {b}", 0.0) for a, b in zip(words, words[1:])))

    def score(texts):
        if isinstance(texts, str):
            raise TypeError("score takes a list of texts and returns a list of P(toxic): call score([text])[0]")
        return [1 / (1 + math.exp(-logit(t))) for t in texts]

    return score


BUILDERS = {"tokenizer": tokenizer, "model": model, "dataset": dataset, "column": column,
            "eval_prediction": eval_prediction, "tensor": tensor, "lookup_scorer": lookup_scorer,
            "word_scorer": word_scorer}

