"""Training: tokenization, the class-weighted Trainer, and `train()` from data to a saved model (the recipes: toxlab.recipe)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from datasets import concatenate_datasets
from transformers import DataCollatorWithPadding, Trainer

from . import saved
from .data import class_counts
from .inference import predict_logits, probabilities
from .lexical import attach_lexical, detach_lexical, fit_lexical, model_lexical, save_lexical
from .metrics import check_prevalence, choose_threshold, compute_metrics, scores, threshold_choice
from .recipe import DEFAULT_PRESET, class_weights, get_preset, split_validation, subset_indices, training_args

MODEL_INPUTS = ("input_ids", "token_type_ids", "attention_mask")
CHECKPOINTS = "checkpoints"  # subfolder of the output folder that holds resumable checkpoints
# Unseen pool rows scored for the threshold, at most this many per class: the rates are per class, so a
# capped draw of each class is as unbiased as all of them, and scoring 3,000 rows costs ~1 min on 2 cores.
HELDOUT_PER_CLASS = 1500


# ---------------------------------------------------------------------------
# tokenization and column cleanup
# ---------------------------------------------------------------------------

def make_tokenize_function(tokenizer, max_length: int = 256, pad_to_max_length: bool = False):
    """A batched `Dataset.map` function: truncate to max_length; pad to it only when asked (the original did)."""
    padding = "max_length" if pad_to_max_length else False

    def tokenize(batch: dict) -> dict:
        return tokenizer(batch["comment_text"], truncation=True, max_length=max_length, padding=padding)

    return tokenize


def prepare_for_training(tokenized, label_column: str = "label"):
    """Keep only the model inputs and `label` (renamed from label_column), in torch format."""
    if label_column != "label":
        if "label" in tokenized.column_names:
            tokenized = tokenized.remove_columns("label")
        tokenized = tokenized.rename_column(label_column, "label")
    keep = {*MODEL_INPUTS, "label"}
    tokenized = tokenized.remove_columns([c for c in tokenized.column_names if c not in keep])
    tokenized.set_format("torch")
    return tokenized


def sort_by_length(tokenized):
    """Order rows by token count, so that evaluation batches need little padding.

    Trainer evaluates in dataset order and returns label_ids in that same order, so
    metrics stay correct; only the padding (and the time) shrinks."""
    lengths = [len(ids) for ids in tokenized["input_ids"]]
    return tokenized.select(np.argsort(lengths, kind="stable"))


# ---------------------------------------------------------------------------
# the class-weighted Trainer
# ---------------------------------------------------------------------------

class WeightedTrainer(Trainer):
    """Trainer with a class-weighted cross-entropy that is exact under gradient accumulation.

    PyTorch's weighted mean divides by the sum of the weights of the batch's labels. Trainer
    counts labels (`num_items_in_batch`) over all micro-batches of one optimizer step; here that
    count becomes the weight sum, so 1x16 and 2x8 give the same gradients as one weighted mean.
    """

    def __init__(self, *args, class_weights: torch.Tensor | None = None, label_smoothing: float = 0.0,
                 layer_lr_decay: float | None = None, **kwargs):
        assert class_weights is not None, "WeightedTrainer needs class_weights=, e.g. toxlab.recipe.class_weights(counts)"
        super().__init__(*args, **kwargs)
        self.class_weights = torch.as_tensor(class_weights, dtype=torch.float32)
        self.label_smoothing = label_smoothing
        self.layer_lr_decay = layer_lr_decay

    def create_optimizer(self, *args, **kwargs):
        """AdamW with layer-wise learning-rate decay when asked, else Trainer's own optimizer."""
        if self.layer_lr_decay is None or self.optimizer is not None:
            return super().create_optimizer(*args, **kwargs)
        groups = layerwise_param_groups(self.model, self.args.learning_rate, self.layer_lr_decay, self.args.weight_decay)
        self.optimizer = torch.optim.AdamW(groups, lr=self.args.learning_rate, betas=(self.args.adam_beta1, self.args.adam_beta2),
                                           eps=self.args.adam_epsilon)
        return self.optimizer

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device):
        if not batch_samples or "labels" not in batch_samples[0]:
            return None
        w = self.class_weights.to(device)
        total = sum(w[b["labels"].to(device)].sum() for b in batch_samples)
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            total = self.accelerator.gather(total.reshape(1)).sum()
        return total

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")  # (batch,)
        outputs = model(**inputs)
        logits = outputs.logits  # (batch, classes)
        weight = self.class_weights.to(device=logits.device, dtype=logits.dtype)
        if num_items_in_batch is None:
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight, label_smoothing=self.label_smoothing)
        else:
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight, reduction="sum",
                                                     label_smoothing=self.label_smoothing)
            loss = loss / num_items_in_batch
            if self.args.average_tokens_across_devices and self.args.world_size > 1:
                loss = loss * self.args.world_size  # DDP averages gradients over ranks
        return (loss, outputs) if return_outputs else loss


def layer_depth(name: str, num_layers: int) -> int:
    """How far below the top a parameter sits: 0 for the head, num_layers + 1 for the embeddings."""
    if ".embeddings." in f".{name}":
        return num_layers + 1
    parts = name.split(".")
    if "layer" in parts:
        i = parts.index("layer")
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            return num_layers - int(parts[i + 1])
    return 0  # classifier, pooler: trained at the full rate


def layerwise_param_groups(model, lr: float, decay: float, weight_decay: float = 0.0) -> list[dict]:
    """AdamW parameter groups whose rate shrinks by `decay` per layer below the head (biases, norms: no weight decay)."""
    num_layers = model.config.num_hidden_layers
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        depth = layer_depth(name, num_layers)
        decayed = param.ndim >= 2  # weight decay on matrices only, as Trainer does for biases and LayerNorm
        group = groups.setdefault((depth, decayed), {"params": [], "lr": lr * decay**depth,
                                                     "weight_decay": weight_decay if decayed else 0.0})
        group["params"].append(param)
    return list(groups.values())


# ---------------------------------------------------------------------------
# train(): data -> saved best model + tokenizer + threshold
# ---------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What `train` produced."""

    model_dir: Path  # the saved best model, tokenizer and threshold
    threshold: float  # P(toxic) cut that maximised macro F1 on validation (on calibrated P when calibrated)
    validation: dict = field(default_factory=dict)  # validation scores at that threshold
    trainer: Trainer | None = None
    temperature: float | None = None  # fitted on validation when train(calibrate=...), else None
    augmentation: dict | None = None  # what train(augment=...) added: method, rows_added, ...
    shift: float | None = None  # the toxic-logit shift fitted with T (calibrate="platt"), else None
    threshold_choice: dict | None = None  # how the threshold was chosen: prevalence, rows, intervals (metrics.threshold_choice)


def _check_output_dir(out: Path, resume: bool, overwrite: bool) -> None:
    has_model = (out / saved.CONFIG_FILE).is_file()
    has_ckpt = any((out / CHECKPOINTS).glob("checkpoint-*")) if (out / CHECKPOINTS).is_dir() else False
    if has_model and not overwrite:
        raise FileExistsError(f"{out}: already holds a trained model; pass overwrite=True (CLI: --force) "
                              "to replace it, or choose another output folder.")
    if has_ckpt and not (resume or overwrite):
        raise FileExistsError(f"{out}: holds checkpoints of an interrupted run; pass resume=True (CLI: --resume) "
                              "to continue it, or overwrite=True (CLI: --force) to start over.")


def train(
    data,
    model,
    tokenizer,
    preset: str = DEFAULT_PRESET,
    output_dir: str | os.PathLike = "saved_models/best_model",
    validation_size: float | int | None = None,
    max_train_samples: int | None = None,
    seed: int = 42,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: list | None = None,
    augment: str | None = None,
    augment_max_rows: int | None = None,
    lexical: bool = True,
    calibrate: bool | str = False,
    prevalence: float | None = None,
    **overrides,
) -> TrainResult:
    """Fine-tune with class weights; keep the best epoch by F1; save model, tokenizer and threshold.

    `data` may hold an "extra" split: labelled rows added to the training pool (after the validation
    split is carved from "train") for the preset's subset to draw from, e.g. more toxic rows.

    augment: "counterfactual" or "identity-nontoxic" (toxlab.augment) adds bias-mitigation rows to the
    training subset after it is drawn (at most augment_max_rows; validation never sees them).
    calibrate: "platt" (or True) fits a temperature and a toxic-logit shift on the validation logits,
    "temperature" a temperature alone (toxlab.calibration), and saves them with the model; the threshold
    is then tuned on the calibrated validation probabilities.
    lexical=False leaves out the preset's TF-IDF part (toxlab.lexical): the transformer alone, as the
    lab notebooks train it, so that before/after comparisons change one thing.
    prevalence: the share of toxic comments where the model will be used (default: data["train"]'s own).
    The threshold maximises the expected macro F1 at it, from the true- and false-positive rates on every
    row training did not use (validation plus the pool rows the subset left out; toxlab.metrics.threshold_choice);
    it is saved with that prevalence and bootstrap intervals, and the scores with it (toxlab_heldout.csv)."""
    # --- 1. validate up front ---
    recipe = get_preset(preset)
    if "train" not in data:
        raise ValueError("data: pass a DatasetDict with a 'train' split (toxlab.data.load_jigsaw()).")
    if calibrate is True:
        calibrate = "platt"
    if calibrate and calibrate not in ("platt", "temperature"):
        raise ValueError(f"calibrate={calibrate!r}: choose 'platt', 'temperature' (or False).")
    if augment is not None:
        from .augment import METHODS

        if augment not in METHODS:
            raise ValueError(f"augment={augment!r}: choose one of {list(METHODS)} (or None).")
    if prevalence is not None:
        check_prevalence(prevalence)
    out = Path(output_dir)
    _check_output_dir(out, resume, overwrite)

    # --- 2. splits: validation (for the best epoch and the threshold) and a subset ---
    if "validation" in data:
        train_split, val_split = data["train"], data["validation"]
    else:
        size = recipe.validation_size if validation_size is None else validation_size
        train_split, val_split = split_validation(data["train"], size, seed)
    if "extra" in data:  # rows for training only (never validation: it must keep the real prevalence)
        train_split = concatenate_datasets([train_split, data["extra"].cast(train_split.features)])
    limit = max_train_samples if max_train_samples is not None else recipe.max_train_samples
    drawn = subset_indices(train_split, limit, recipe.toxic_share, seed=seed)
    unseen = _unseen_rows(train_split, drawn, seed)  # pool rows the subset left out: evidence for the threshold
    train_split = train_split.select(drawn) if len(drawn) < len(train_split) else train_split
    if prevalence is None:  # train's own share of toxic rows: the extra rows are no random sample
        prevalence = float(np.mean(data["train"]["label"]))
    augmentation = None
    if augment is not None:  # after the subset, so the added rows are not sampled away
        from .augment import augment_dataset

        train_split, augmentation = augment_dataset(train_split, augment, seed=seed, max_rows=augment_max_rows)

    # --- 3. tokenize, clean up columns ---
    tok_fn = make_tokenize_function(tokenizer, recipe.max_length, recipe.pad_to_max_length)
    train_ds = prepare_for_training(train_split.map(tok_fn, batched=True))
    val_ds = prepare_for_training(sort_by_length(val_split.map(tok_fn, batched=True)))

    # --- 4. trainer ---
    args = training_args(preset, out / CHECKPOINTS, seed=seed, data_seed=seed, **overrides)
    weights = class_weights(class_counts(train_split))
    trainer = WeightedTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=compute_metrics,
        class_weights=weights, callbacks=callbacks, label_smoothing=recipe.label_smoothing,
        layer_lr_decay=recipe.layer_lr_decay,
    )

    # --- 5. train (resuming when asked) ---
    resume_from = resume and (out / CHECKPOINTS).is_dir() and any((out / CHECKPOINTS).glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if resume_from else None)

    # --- 6. threshold on validation, in input order (Trainer.predict reorders grouped batches) ---
    saved.clear_calibration(trainer.model)  # a calibrated model fine-tuned further is not calibrated
    detach_lexical(trainer.model)  # nor is an old blend
    blend = recipe.lexical_weight if lexical else None
    if blend is not None:  # the TF-IDF part sees exactly the transformer's training rows
        attach_lexical(trainer.model, fit_lexical(train_split["comment_text"], train_split["label"]), blend)
    logits = predict_logits(val_split["comment_text"], trainer.model, tokenizer, max_length=recipe.max_length)
    probs = probabilities(logits)[:, 1]
    threshold = choose_threshold(val_split["label"], probs)
    calibration = temperature = shift = None
    if calibrate:
        from .calibration import calibration_record

        calibration = calibration_record(logits, val_split["label"], method=calibrate)
        calibration.update({"fitted_on": "validation split of train()", "rows": len(val_split),
                            "threshold_before": threshold})
        temperature, shift = calibration["temperature"], calibration["shift"]
        probs = probabilities(logits, temperature, shift)[:, 1]
    # the threshold from every scored row training never saw (validation + unseen pool rows), at `prevalence`
    unseen_p = (probabilities(predict_logits(unseen["comment_text"], trainer.model, tokenizer, max_length=recipe.max_length),
                              temperature, shift)[:, 1] if len(unseen) else np.zeros(0))
    heldout = {"p_toxic": np.r_[probs, unseen_p],
               "label": np.r_[val_split["label"], unseen["label"]].astype(int),
               "source": ["validation"] * len(val_split) + ["unseen"] * len(unseen)}
    choice = threshold_choice(heldout["label"], heldout["p_toxic"], prevalence, seed=seed)
    choice["validation_argmax"] = threshold  # what the old rule (argmax on validation alone) would have saved
    threshold = choice["threshold"]
    if calibrate:
        calibration["threshold"] = threshold
    validation = scores(val_split["label"], probs, threshold)

    # --- 7. save best model + tokenizer + threshold (+ temperature) ---
    saved.set_threshold(trainer.model, threshold, choice)
    if calibrate:
        saved.set_calibration(trainer.model, calibration)
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        if blend is not None:
            save_lexical(model_lexical(trainer.model), out)
        meta = {"preset": preset, "recipe": asdict(recipe), "seed": seed, "threshold": threshold,
                "validation": validation, "lexical_weight": blend, "threshold_choice": choice,
                "train_rows": len(train_split), "validation_rows": len(val_split),
                "validation_size": None if "validation" in data else size,
                "augmentation": augmentation, "temperature": temperature, "logit_shift": shift,
                "train_class_counts": class_counts(train_split), "class_weights": weights.tolist(),
                "data": train_split.info.description}
        saved.write_training_meta(out, meta)
        # the rows the threshold was chosen on, so calibration and the labs never re-carve a different split
        saved.write_validation(out, val_split["comment_text"], val_split["label"])
        saved.write_heldout_scores(out, **heldout)  # so `toxlab evaluate --prevalence` re-derives without retraining
    return TrainResult(out, threshold, validation, trainer, temperature, augmentation, shift, choice)


def _unseen_rows(pool, drawn: np.ndarray, seed: int):
    """The pool rows outside `drawn`, at most HELDOUT_PER_CLASS of each class (seeded)."""
    rest = np.setdiff1d(np.arange(len(pool)), drawn)
    y = np.asarray(pool["label"])[rest]
    rng = np.random.default_rng(seed)
    keep = [rng.choice(rest[y == c], min(HELDOUT_PER_CLASS, int((y == c).sum())), replace=False) for c in (0, 1)]
    return pool.select(np.sort(np.concatenate(keep)).astype(int))
