"""toxlab.training: tokenization, cleanup, the weighted loss under accumulation, presets, train()."""

import json

import numpy as np

import datasets
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, TrainerCallback

from fixtures.wrong_trainers import CountNormalisedTrainer, PerMicroBatchMeanTrainer, UnweightedTrainer
from toxlab.data import load_jigsaw
from toxlab.recipe import PRESETS, training_args
from toxlab.saved import THRESHOLD_KEY
from toxlab.training import WeightedTrainer, make_tokenize_function, prepare_for_training, train


# --- tokenization and cleanup ---------------------------------------------------

def test_tokenize_truncates_and_pads_only_when_asked(minilm_tokenizer):
    batch = {"comment_text": ["short one", "word " * 600]}
    dyn = make_tokenize_function(minilm_tokenizer, max_length=256)(batch)
    assert [len(x) for x in dyn["input_ids"]] == [4, 256]
    padded = make_tokenize_function(minilm_tokenizer, max_length=256, pad_to_max_length=True)(batch)
    assert [len(x) for x in padded["input_ids"]] == [256, 256]


def test_prepare_for_training_keeps_model_inputs_and_label(demo_dir, minilm_tokenizer):
    ds = load_jigsaw(demo_dir, verbose=False)["train"].select(range(20))
    tok = ds.map(make_tokenize_function(minilm_tokenizer), batched=True)
    out = prepare_for_training(tok, label_column="insult")
    assert sorted(out.column_names) == ["attention_mask", "input_ids", "label", "token_type_ids"]
    assert out[:]["label"].tolist() == list(ds["insult"])
    assert isinstance(out[0]["input_ids"], torch.Tensor)


# --- the weighted loss under gradient accumulation --------------------------------

def _ga_setup(tmp_path, minilm_tokenizer):
    config = BertConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0, num_labels=2)
    # 16 rows; the toxic ones all sit in the first half, so the micro-batches' weight sums differ
    labels = [1, 1, 1, 0, 0, 0, 0, 0] + [0] * 8
    texts = [f"comment number {i} " + "word " * (i % 5) for i in range(16)]
    ds = datasets.Dataset.from_dict({"comment_text": texts, "label": labels})
    ds = prepare_for_training(ds.map(make_tokenize_function(minilm_tokenizer, 32, pad_to_max_length=True), batched=True))
    weights = torch.tensor([0.1, 0.9])
    return config, ds, weights


class _GradGrab(TrainerCallback):
    def __init__(self):
        self.grads = None

    def on_pre_optimizer_step(self, args, state, control, model=None, **kw):
        self.grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _trainer_grads(cls, config, ds, weights, bs, ga, tmp_path):
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    grab = _GradGrab()
    args = training_args("quick", tmp_path / f"{cls.__name__}-{bs}x{ga}", per_device_train_batch_size=bs,
                         gradient_accumulation_steps=ga, max_steps=1, train_sampling_strategy="sequential",
                         max_grad_norm=0.0, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                         disable_tqdm=True, use_cpu=True)
    cls(model=model, args=args, train_dataset=ds, class_weights=weights, callbacks=[grab]).train()
    return grab.grads


def _reference_grads(config, ds, weights):
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    rows = ds[:]  # dict of stacked (16, seq) tensors
    batch = {k: rows[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    loss = torch.nn.CrossEntropyLoss(weight=weights)(model(**batch).logits, rows["label"])
    loss.backward()
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _close(a, b) -> bool:
    return all(torch.allclose(a[n], b[n], atol=1e-6, rtol=1e-4) for n in a)


def test_weighted_loss_is_exact_under_gradient_accumulation(tmp_path, minilm_tokenizer):
    config, ds, w = _ga_setup(tmp_path, minilm_tokenizer)
    ref = _reference_grads(config, ds, w)
    one = _trainer_grads(WeightedTrainer, config, ds, w, 16, 1, tmp_path)
    two = _trainer_grads(WeightedTrainer, config, ds, w, 8, 2, tmp_path)
    four = _trainer_grads(WeightedTrainer, config, ds, w, 4, 4, tmp_path)
    assert _close(one, ref) and _close(two, ref) and _close(four, ref)


@pytest.mark.parametrize("wrong", [PerMicroBatchMeanTrainer, CountNormalisedTrainer, UnweightedTrainer])
def test_wrong_weighted_losses_are_caught(wrong, tmp_path, minilm_tokenizer):
    config, ds, w = _ga_setup(tmp_path, minilm_tokenizer)
    ref = _reference_grads(config, ds, w)
    assert not _close(_trainer_grads(wrong, config, ds, w, 8, 2, tmp_path), ref)


def test_weighted_trainer_needs_weights(tmp_path, tiny_model):
    with pytest.raises(AssertionError, match="class_weights"):
        WeightedTrainer(model=tiny_model, args=training_args("quick", tmp_path, use_cpu=True))


# --- presets ----------------------------------------------------------------------

def test_seed_preset_is_the_original_recipe(tmp_path):
    a = training_args("seed", tmp_path)
    assert (a.learning_rate, a.num_train_epochs, a.per_device_train_batch_size, a.per_device_eval_batch_size) == (2e-5, 3, 16, 16)
    assert a.weight_decay == 0.01 and a.eval_strategy == "epoch" and a.save_strategy == "epoch"
    assert a.load_best_model_at_end and a.metric_for_best_model == "f1"
    assert a.train_sampling_strategy == "random" and PRESETS["seed"].pad_to_max_length


def test_quick_and_gpu_presets(tmp_path):
    q = training_args("quick", tmp_path)
    assert q.train_sampling_strategy == "group_by_length" and not PRESETS["quick"].pad_to_max_length
    assert q.load_best_model_at_end and q.eval_strategy == q.save_strategy != "no" and PRESETS["quick"].max_train_samples
    assert PRESETS["quick"].max_length == 128 and PRESETS["seed"].max_length == 256
    g = training_args("gpu", tmp_path, use_cpu=True)
    assert g.per_device_eval_batch_size > 16 and g.dataloader_num_workers > 0
    assert training_args("quick", tmp_path, learning_rate=1e-3).learning_rate == 1e-3
    with pytest.raises(ValueError, match="choose one of"):
        training_args("fast", tmp_path)


# --- train(): saved model, threshold, no silent overwrite, resume ---------------------

def _small_train(demo_dir, tmp_path, minilm_tokenizer, out, **kw):
    from toxlab.models import tiny_bert

    data = load_jigsaw(demo_dir, verbose=False)
    return train(data, tiny_bert(seed=1), minilm_tokenizer, preset="quick", output_dir=out,
                 max_train_samples=200, num_train_epochs=2, use_cpu=True, disable_tqdm=True,
                 learning_rate=1e-3, **kw)


def test_train_saves_model_tokenizer_and_threshold(demo_dir, tmp_path, minilm_tokenizer):
    res = _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg[THRESHOLD_KEY] == pytest.approx(res.threshold) and 0 < res.threshold < 1
    assert (tmp_path / "m" / "tokenizer.json").is_file() or (tmp_path / "m" / "vocab.txt").is_file()
    meta = json.loads((tmp_path / "m" / "toxlab_training.json").read_text())
    assert meta["preset"] == "quick" and meta["train_rows"] == 200 and "SYNTHETIC" in meta["data"]
    with pytest.raises(FileExistsError, match="--force"):
        _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "m")


class _Interrupt(TrainerCallback):
    """Stops the run hard right after the first epoch's checkpoint, like a Ctrl-C."""

    def on_save(self, args, state, control, **kw):
        raise KeyboardInterrupt


@pytest.mark.slow  # trains twice, interrupted and resumed, to compare the models (about 35 s on 2 cores)
def test_resume_after_interruption_reaches_the_same_model(demo_dir, tmp_path, minilm_tokenizer):
    full = _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "cut", callbacks=[_Interrupt()])
    with pytest.raises(FileExistsError, match="--resume"):
        _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "cut")
    resumed = _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "cut", resume=True)
    a, b = full.trainer.model.state_dict(), resumed.trainer.model.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert resumed.threshold == pytest.approx(full.threshold)


# --- the cpu recipe: enriched subset from extra rows, label smoothing, layer-wise rates ---------

def test_cpu_preset_is_one_epoch_of_an_enriched_subset(tmp_path):
    c, recipe = training_args("cpu", tmp_path), PRESETS["cpu"]
    assert c.train_sampling_strategy == "group_by_length" and c.load_best_model_at_end
    assert recipe.max_length == 128 and 0 < recipe.toxic_share < 1 and recipe.max_train_samples >= 5000


def test_training_subset_is_enriched_only_when_asked(demo_dir):
    from toxlab.recipe import training_subset

    pool = load_jigsaw(demo_dir, verbose=False)["train"]
    assert training_subset(pool, None) is pool
    share = lambda d: sum(d["label"]) / len(d)  # noqa: E731
    plain, rich = training_subset(pool, 100), training_subset(pool, 100, toxic_share=0.3)
    assert len(plain) == len(rich) == 100
    assert share(plain) == pytest.approx(share(pool), abs=0.02) and share(rich) == pytest.approx(0.3)


def test_extra_rows_train_but_never_validate(demo_dir, tmp_path, minilm_tokenizer):
    from toxlab.data import make_demo_data
    from toxlab.models import tiny_bert

    data = load_jigsaw(demo_dir, verbose=False)
    more = load_jigsaw(make_demo_data(tmp_path / "more", n_train=800, n_test=20, seed=9), verbose=False)["train"]
    data["extra"] = more.filter(lambda r: r["label"] == 1)  # class-pure, like jigsaw-extra
    res = train(data, tiny_bert(seed=1), minilm_tokenizer, preset="cpu", output_dir=tmp_path / "m",
                max_train_samples=200, max_steps=2, use_cpu=True, disable_tqdm=True)
    meta = json.loads((tmp_path / "m" / "toxlab_training.json").read_text())
    assert meta["validation_rows"] == round(PRESETS["cpu"].validation_size * len(data["train"]))  # from train alone
    assert meta["train_rows"] == 200 and meta["train_class_counts"][1] == round(200 * PRESETS["cpu"].toxic_share)
    assert 0 < res.threshold < 1
    # the saved validation rows are exactly the split train() carved from train (none of the extra rows)
    from toxlab.recipe import split_validation
    from toxlab.saved import read_validation

    _, carved = split_validation(data["train"], PRESETS["cpu"].validation_size, meta["seed"])
    assert read_validation(tmp_path / "m") == (list(carved["comment_text"]), list(carved["label"]))


def _loss(trainer, model, batch):
    return trainer.compute_loss(model, dict(batch)).item()


def test_label_smoothing_enters_the_weighted_loss(tmp_path):
    from toxlab.models import tiny_bert

    model = tiny_bert(initializer_range=0.5).eval()  # confident logits (smoothing matters); no dropout
    args = training_args("quick", tmp_path, use_cpu=True, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    batch = {"input_ids": torch.tensor([[101, 2000, 102], [101, 3000, 102]]), "labels": torch.tensor([0, 1])}
    w = torch.tensor([0.2, 0.8])
    plain = WeightedTrainer(model=model, args=args, class_weights=w)
    smooth = WeightedTrainer(model=model, args=args, class_weights=w, label_smoothing=0.2)
    logits = model(input_ids=batch["input_ids"]).logits
    want = torch.nn.functional.cross_entropy(logits, batch["labels"], weight=w, label_smoothing=0.2).item()
    assert _loss(smooth, model, batch) == pytest.approx(want, rel=1e-5)
    assert _loss(plain, model, batch) != pytest.approx(want, rel=1e-3)


def test_layerwise_rates_shrink_from_head_to_embeddings(tmp_path, tiny_model):
    from toxlab.training import layer_depth, layerwise_param_groups

    assert layer_depth("classifier.weight", 2) == 0 and layer_depth("bert.pooler.dense.weight", 2) == 0
    assert layer_depth("bert.encoder.layer.1.output.dense.weight", 2) == 1
    assert layer_depth("bert.encoder.layer.0.output.dense.weight", 2) == 2
    assert layer_depth("bert.embeddings.word_embeddings.weight", 2) == 3
    groups = layerwise_param_groups(tiny_model, 1e-3, 0.5, weight_decay=0.01)
    rate = {id(p): g["lr"] for g in groups for p in g["params"]}
    decay = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    params = dict(tiny_model.named_parameters())
    assert len(rate) == len(params)  # every parameter once
    assert rate[id(params["classifier.weight"])] == pytest.approx(1e-3)
    assert rate[id(params["bert.embeddings.word_embeddings.weight"])] == pytest.approx(1e-3 * 0.5**3)
    assert decay[id(params["classifier.bias"])] == 0 and decay[id(params["classifier.weight"])] == 0.01
    trainer = WeightedTrainer(model=tiny_model, args=training_args("quick", tmp_path, use_cpu=True, eval_strategy="no", save_strategy="no",
                                                        load_best_model_at_end=False),
                              class_weights=torch.tensor([0.5, 0.5]), layer_lr_decay=0.5)
    lr = trainer.args.learning_rate
    assert sorted({g["lr"] for g in trainer.create_optimizer().param_groups}) == pytest.approx([lr / 8, lr / 4, lr / 2, lr])


# --- the threshold: chosen from every row training did not see, at a stated prevalence (issue #29) ---

def test_threshold_comes_from_unseen_rows_at_a_stated_prevalence(demo_dir, tmp_path, minilm_tokenizer):
    from toxlab.metrics import threshold_choice
    from toxlab.models import load_classifier
    from toxlab.saved import model_prevalence, model_threshold_choice, read_heldout_scores

    data = load_jigsaw(demo_dir, verbose=False)
    res = _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "m", prevalence=0.2)
    held = read_heldout_scores(tmp_path / "m")
    sources = np.asarray(held["source"])
    n_val = round(PRESETS["quick"].validation_size * len(data["train"]))
    # validation rows plus the pool rows the 200-row subset left out (capped per class)
    assert (sources == "validation").sum() == n_val
    assert (sources == "unseen").sum() == len(data["train"]) - n_val - 200  # the pool minus the 200 trained on
    model, _ = load_classifier(tmp_path / "m")
    choice = model_threshold_choice(model)
    assert model_prevalence(model) == pytest.approx(0.2) and choice["prevalence"] == pytest.approx(0.2)
    assert res.threshold == pytest.approx(choice["threshold"])
    lo, hi = choice["threshold_interval"]
    assert lo <= res.threshold <= hi and choice["f1_interval"][0] <= choice["f1"] <= choice["f1_interval"][1]
    # the saved scores re-derive the saved threshold exactly (what `toxlab evaluate --prevalence` relies on)
    again = threshold_choice(held["label"], held["p_toxic"], 0.2, seed=42)
    assert again["threshold"] == pytest.approx(res.threshold)
    meta = json.loads((tmp_path / "m" / "toxlab_training.json").read_text())
    assert meta["threshold_choice"]["rows"] == len(held["label"])


def test_default_prevalence_is_trains_own_share(demo_dir, tmp_path, minilm_tokenizer):
    from toxlab.saved import read_config

    data = load_jigsaw(demo_dir, verbose=False)
    _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "m", max_steps=1)
    assert read_config(tmp_path / "m")["toxlab_prevalence"] == pytest.approx(np.mean(data["train"]["label"]))
    with pytest.raises(ValueError, match="prevalence"):
        _small_train(demo_dir, tmp_path, minilm_tokenizer, tmp_path / "bad", prevalence=1.5)
