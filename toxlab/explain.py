"""Why did the model say toxic? Word attributions, their faithfulness, and term statistics.

Attribution methods (all for class 1, toxic):
  occlusion : P(toxic | text) - P(toxic | text with one word piece deleted)   (or one word: level="word")
  gxi       : gradient x input on the word embeddings, summed over the embedding dimension
  ig        : integrated gradients (Captum LayerIntegratedGradients) over the word-embedding layer
  attention : attention paid by [CLS] to each piece in one layer, averaged over heads
  random    : a random ranking, the baseline every method must beat

Gradient methods differentiate P(toxic) = softmax(logits)[:, 1], not the toxic logit, so that every
method's scores are in the units the faithfulness metrics measure (probability), and IG's scores sum
to P(toxic | text) - P(toxic | baseline) (completeness). With two classes grad P = P(1 - P) grad(z1 - z0):
gradient x input ranks pieces exactly as it would on the log-odds, only its scale shrinks when P saturates.

Faithfulness follows ERASER (DeYoung et al. 2020): remove the top k% words (comprehensiveness: higher
is better) or keep only them (sufficiency: LOWER is better), averaged over k (AOPC).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import html
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np

from .identity import term_pattern

Scorer = Callable[[list[str]], list[float]]  # texts -> P(toxic) per text, in order

METHODS = ("occlusion", "gxi", "ig", "attention")
KS = (1, 5, 10, 20, 50)  # ERASER's AOPC bins, in % of the words
SPECIAL = ("[CLS]", "[SEP]", "[PAD]")  # dropped when merging pieces into words
BASELINES = ("pad", "mask", "zero")
TOXIC = 1  # class id of Toxic
MAX_LENGTH = 256  # truncation, as in toxlab.inference.predict


@dataclass
class Attribution:
    """One text's attribution scores per word piece (or per word), toward P(toxic)."""

    text: str
    tokens: list[str]  # word pieces without [CLS]/[SEP]/[PAD], or words when level == "word"
    scores: np.ndarray  # (len(tokens),) float; positive pushes toward toxic
    method: str  # "occlusion", "occlusion-word", "gxi", "ig", "attention", "random"
    p_toxic: float  # the model's P(toxic) for the full text (NaN when no model was asked)
    level: str = "token"  # "token" (word pieces) or "word"; words() merges only pieces
    delta: float | None = None  # ig only: sum(scores) - (F(text) - F(baseline)), Captum's convergence delta
    p_baseline: float | None = None  # ig only: P(toxic | baseline), so that completeness can be read off

    def __post_init__(self):
        self.scores = np.asarray(self.scores, dtype=float).reshape(-1)
        if self.scores.shape != (len(self.tokens),):
            raise ValueError(f"Attribution: {len(self.tokens)} tokens but scores of shape {self.scores.shape}; "
                             "give one score per token.")

    def words(self, reduce: str = "sum", merge: Callable | None = None) -> "Attribution":
        """The same attribution merged into words (see merge_words); word-level ones are copied as they are.

        merge: another merge(tokens, scores) -> (words, word_scores) to use instead (lab 6b passes the
        student's own, so that their exercise feeds the pictures and tables after it)."""
        if self.level == "word":
            return dataclasses.replace(self, tokens=list(self.tokens), scores=self.scores.copy())
        if merge is not None:
            words, scores = merge(list(self.tokens), self.scores.copy())
            return dataclasses.replace(self, tokens=list(words), scores=np.asarray(scores, dtype=float), level="word")
        words, scores = merge_words(self.tokens, self.scores, reduce)
        return dataclasses.replace(self, tokens=words, scores=scores, level="word")


# ---------------------------------------------------------------------------
# scoring and encoding
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def _eval_mode(model):
    """Dropout off for the duration; the model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _device(model):
    return next(model.parameters()).device


def _p_toxic_ids(model, tokenizer, ids: Sequence[Sequence[int]], batch_size: int = 64) -> np.ndarray:
    """P(toxic) for already tokenized inputs (with their [CLS]/[SEP]), batched by length."""
    import torch

    probs = np.empty(len(ids), dtype=float)
    order = np.argsort([-len(x) for x in ids], kind="stable")  # similar lengths share a batch: less padding
    device = _device(model)
    with _eval_mode(model), torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer.pad({"input_ids": [list(ids[i]) for i in idx]}, return_tensors="pt")
            logits = model(input_ids=batch["input_ids"].to(device),
                           attention_mask=batch["attention_mask"].to(device)).logits  # (batch, 2)
            probs[idx] = torch.softmax(logits.float(), dim=-1)[:, TOXIC].cpu().numpy()
    return probs


def scorer(model, tokenizer, batch_size: int = 64, max_length: int = MAX_LENGTH) -> Scorer:
    """Wrap a model as texts -> P(toxic) per text (eval mode, no grad, truncated, padded per batch)."""

    def score(texts: list[str]) -> list[float]:
        if isinstance(texts, str):
            raise TypeError("scorer: pass a list of strings, not one string (wrap it: [text]).")
        texts = list(texts)
        if not texts:
            return []
        ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        return _p_toxic_ids(model, tokenizer, ids, batch_size).tolist()

    return score


def _encode(tokenizer, text: str, max_length: int):
    """input_ids (1, seq) with [CLS]/[SEP], the content positions (no specials) and their pieces."""
    import torch

    if not isinstance(text, str):
        raise TypeError(f"text is {type(text).__name__} ({text!r:.40}); pass one str.")
    enc = tokenizer(text, truncation=True, max_length=max_length, return_special_tokens_mask=True)
    ids = torch.tensor([enc["input_ids"]])  # (1, seq)
    content = [i for i, special in enumerate(enc["special_tokens_mask"]) if not special]
    pieces = tokenizer.convert_ids_to_tokens([enc["input_ids"][i] for i in content])
    return ids, content, pieces


# ---------------------------------------------------------------------------
# attribution methods
# ---------------------------------------------------------------------------

def occlusion(model, tokenizer, text: str, level: str = "token", batch_size: int = 64,
              max_length: int = MAX_LENGTH) -> Attribution:
    """Deletion occlusion: each piece's (or word's) score is the drop in P(toxic) when it is deleted."""
    if level == "word":
        words = text.split()
        variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
        p = np.asarray(scorer(model, tokenizer, batch_size, max_length)([text, *variants]))
        return Attribution(text, words, p[0] - p[1:], "occlusion-word", float(p[0]), level="word")
    if level != "token":
        raise ValueError(f"occlusion: level={level!r}; use 'token' (word pieces) or 'word' (text.split()).")
    ids, content, pieces = _encode(tokenizer, text, max_length)
    full = ids[0].tolist()
    variants = [full[:i] + full[i + 1 :] for i in content]  # [CLS] and [SEP] stay
    p = _p_toxic_ids(model, tokenizer, [full, *variants], batch_size)
    return Attribution(text, pieces, p[0] - p[1:], "occlusion", float(p[0]))


def _p_toxic_from_embeddings(model, embeddings, attention_mask):
    """P(toxic) (batch,) from word embeddings; BERT adds position and token-type embeddings itself."""
    import torch

    logits = model(inputs_embeds=embeddings, attention_mask=attention_mask).logits
    return torch.softmax(logits.float(), dim=-1)[:, TOXIC]


def gradient_x_input(model, tokenizer, text: str, max_length: int = MAX_LENGTH) -> Attribution:
    """Gradient of P(toxic) with respect to each piece's word embedding, times that embedding, summed."""
    import torch

    ids, content, pieces = _encode(tokenizer, text, max_length)
    ids = ids.to(_device(model))
    mask = torch.ones_like(ids)
    with _eval_mode(model), torch.enable_grad():
        # a leaf of our own: autograd.grad leaves the parameters' .grad and requires_grad untouched
        emb = model.get_input_embeddings()(ids).detach().requires_grad_(True)  # (1, seq, hidden)
        p = _p_toxic_from_embeddings(model, emb, mask)  # (1,)
        (grad,) = torch.autograd.grad(p.sum(), emb)
    scores = (grad * emb.detach()).sum(-1)[0, content]  # (n_pieces,)
    return Attribution(text, pieces, scores.float().cpu().numpy(), "gxi", float(p.item()))


def _baseline_ids(tokenizer, ids, content: list[int], baseline: str | int):
    """The input ids with every content piece replaced by [PAD] or [MASK] (or a token id); [CLS] and [SEP] kept."""
    token = int(baseline) if _is_token_id(baseline) else {"pad": tokenizer.pad_token_id, "mask": tokenizer.mask_token_id}[baseline]
    if token is None:
        raise ValueError(f"integrated_gradients: baseline={baseline!r} but the tokenizer has no such token; "
                         f"use another of {BASELINES}.")
    out = ids.clone()
    out[0, content] = token
    return out


def _is_token_id(baseline) -> bool:
    return isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool)


def integrated_gradients(model, tokenizer, text: str, n_steps: int = 32, baseline: str | int = "pad",
                         max_length: int = MAX_LENGTH, internal_batch_size: int | None = None) -> Attribution:
    """Integrated gradients of P(toxic) over the word-embedding layer, from an all-[PAD] (or [MASK], zero) text.

    baseline: "pad", "mask" or "zero", or a token id whose embedding fills every content piece (lab 6b's
    students pick one). Scores sum to P(toxic | text) - P(toxic | baseline) (the Attribution's p_toxic and
    p_baseline) up to `delta`, which shrinks (not always steadily) as n_steps grows."""
    import torch
    from captum.attr import IntegratedGradients, LayerIntegratedGradients

    if not (_is_token_id(baseline) or baseline in BASELINES):
        raise ValueError(f"integrated_gradients: baseline={baseline!r}; use one of {', '.join(BASELINES)}, "
                         "or a token id.")
    if _is_token_id(baseline) and not 0 <= int(baseline) < model.get_input_embeddings().num_embeddings:
        raise ValueError(f"integrated_gradients: baseline={baseline} is no token id of this model "
                         f"(0..{model.get_input_embeddings().num_embeddings - 1}).")
    ids, content, pieces = _encode(tokenizer, text, max_length)
    device = _device(model)
    ids = ids.to(device)
    mask = torch.ones_like(ids)
    with _eval_mode(model), torch.enable_grad():
        if baseline == "zero":
            # LayerIntegratedGradients takes baselines as ids; a zero embedding has no id, so integrate over
            # the embeddings themselves: the same path, the same attributions as a zero layer baseline
            emb = model.get_input_embeddings()(ids).detach()  # (1, seq, hidden)
            base = emb.clone()
            base[0, content] = 0.0
            ig = IntegratedGradients(lambda e, m: _p_toxic_from_embeddings(model, e, m))
            attr, delta = ig.attribute(emb, baselines=base, additional_forward_args=(mask,), n_steps=n_steps,
                                       internal_batch_size=internal_batch_size, return_convergence_delta=True)
            with torch.inference_mode():
                p_baseline = float(_p_toxic_from_embeddings(model, base, mask)[0].item())
        else:
            def forward(input_ids, attention_mask):  # (batch, 2): target picks the toxic column
                logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
                return torch.softmax(logits.float(), dim=-1)

            lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
            base_ids = _baseline_ids(tokenizer, ids, content, baseline)
            attr, delta = lig.attribute(ids, baselines=base_ids,
                                        additional_forward_args=(mask,), target=TOXIC, n_steps=n_steps,
                                        internal_batch_size=internal_batch_size, return_convergence_delta=True)
            p_baseline = float(_p_toxic_ids(model, tokenizer, base_ids.tolist())[0])
    scores = attr.sum(-1)[0, content]  # (n_pieces,); [CLS]/[SEP] equal their baseline, so score 0
    p_toxic = float(_p_toxic_ids(model, tokenizer, ids.tolist())[0])
    return Attribution(text, pieces, scores.detach().float().cpu().numpy(), "ig", p_toxic,
                       delta=float(delta.sum().item()), p_baseline=p_baseline)


@contextlib.contextmanager
def _eager_attention(model):
    """transformers 5 returns no attention weights from sdpa: switch to eager for the duration, then back."""
    before = model.config._attn_implementation
    if before != "eager":
        model.set_attn_implementation("eager")
    try:
        yield model
    finally:
        if before != "eager":
            model.set_attn_implementation(before)


def attention(model, tokenizer, text: str, layer: int = -1, max_length: int = MAX_LENGTH) -> Attribution:
    """Attention from [CLS] to each piece in `layer`, averaged over heads (not signed: all scores >= 0)."""
    import torch

    ids, content, pieces = _encode(tokenizer, text, max_length)
    ids = ids.to(_device(model))
    with _eval_mode(model), _eager_attention(model), torch.inference_mode():
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
    n_layers = len(out.attentions)
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"attention: layer={layer} but the model has {n_layers} layers; use 0..{n_layers - 1} or -1.")
    weights = out.attentions[layer][0, :, 0, :].mean(0)  # (seq,): row of [CLS], mean over heads
    p = torch.softmax(out.logits.float(), dim=-1)[0, TOXIC]
    return Attribution(text, pieces, weights[content].float().cpu().numpy(), "attention", float(p.item()))


def random_attribution(tokenizer, text: str, seed: int = 0, words: bool = True,
                       max_length: int = MAX_LENGTH) -> Attribution:
    """Uniform random scores: the ranking every method must beat. No tokenizer: the words of text.split()."""
    if tokenizer is None:
        tokens, level = text.split(), "word"
    else:
        _, _, tokens = _encode(tokenizer, text, max_length)
        level = "token"
        if words:  # one random score per word, so long words are not ranked higher by summing pieces
            tokens, level = merge_words(tokens, np.zeros(len(tokens)))[0], "word"
    scores = np.random.default_rng(seed).random(len(tokens))
    return Attribution(text, tokens, scores, "random", float("nan"), level=level)


def explain(model, tokenizer, text: str, method: str = "ig", **kw) -> Attribution:
    """Attribute `text` with the named method (one of METHODS, or "random"); kw go to that method."""
    if method == "random":
        a = random_attribution(tokenizer, text, **{"words": False, **kw})
        a.p_toxic = scorer(model, tokenizer)([text])[0]
        return a
    funcs = {"occlusion": occlusion, "gxi": gradient_x_input, "ig": integrated_gradients, "attention": attention}
    if method not in funcs:
        raise ValueError(f"method {method!r}: unknown; use one of {', '.join(METHODS + ('random',))}.")
    return funcs[method](model, tokenizer, text, **kw)


# ---------------------------------------------------------------------------
# words and rankings
# ---------------------------------------------------------------------------

def merge_words(tokens: list[str], scores, reduce: str = "sum") -> tuple[list[str], np.ndarray]:
    """Merge WordPiece pieces into words ("##" continues the previous word); drop [CLS]/[SEP]/[PAD]."""
    reducers = {"sum": np.sum, "mean": np.mean, "max": np.max}
    if reduce not in reducers:
        raise ValueError(f"merge_words: reduce={reduce!r}; use one of {', '.join(reducers)}.")
    scores = np.asarray(scores, dtype=float).reshape(-1)
    if len(scores) != len(tokens):
        raise ValueError(f"merge_words: {len(tokens)} tokens but {len(scores)} scores.")
    words: list[str] = []
    groups: list[list[float]] = []
    for tok, s in zip(tokens, scores):
        if tok in SPECIAL:
            continue
        if tok.startswith("##") and words:
            words[-1] += tok[2:]
            groups[-1].append(s)
        else:  # a "##" piece with no word before it starts one
            words.append(tok[2:] if tok.startswith("##") else tok)
            groups.append([s])
    return words, np.array([reducers[reduce](g) for g in groups], dtype=float)


def top_k(scores, k: int) -> list[int]:
    """Indices of the k largest scores (signed), highest first; ties go to the lower index."""
    s = np.asarray(scores, dtype=float).reshape(-1)
    s = np.where(np.isnan(s), -np.inf, s)  # a NaN score is never "top"
    k = min(max(int(k), 0), len(s))
    return np.lexsort((np.arange(len(s)), -s))[:k].tolist()  # last key sorts first: by -score, then index


def n_top(n: int, k_percent: int | float) -> int:
    """How many of n tokens "the top k%" is: ceil(n * k / 100), at least 1 and at most n (0 when n == 0)."""
    if n <= 0:
        return 0
    if (isinstance(k_percent, float) and not math.isfinite(k_percent)) or k_percent < 0:
        raise ValueError(f"n_top: k_percent={k_percent}; give a percentage >= 0, e.g. 10.")
    # exact arithmetic: n * 10 / 100 must not round up to 2 for n = 10 through float error
    k = Fraction(k_percent) if isinstance(k_percent, int) else Fraction(str(k_percent))
    return min(n, max(1, math.ceil(n * k / 100)))


KINDS = ("comprehensiveness", "sufficiency")


def _erased(words: list[str], scores, k_percent, kind: str) -> str:
    """The text with the top k% words removed (comprehensiveness) or only they kept (sufficiency)."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; use 'comprehensiveness' or 'sufficiency'.")
    if len(words) != len(np.asarray(scores).reshape(-1)):
        raise ValueError(f"{len(words)} words but {len(np.asarray(scores).reshape(-1))} scores; give one score per word.")
    top = set(top_k(scores, n_top(len(words), k_percent)))
    keep_top = kind == "sufficiency"
    return " ".join(w for i, w in enumerate(words) if (i in top) == keep_top)


def comprehensiveness(score: Scorer, words: list[str], scores, k_percent) -> float:
    """P(full) - P(text without its top k% words): higher means the top words mattered."""
    p = score([" ".join(words), _erased(words, scores, k_percent, "comprehensiveness")])
    return float(p[0] - p[1])


def sufficiency(score: Scorer, words: list[str], scores, k_percent) -> float:
    """P(full) - P(only the top k% words, in order): LOWER means the top words suffice."""
    p = score([" ".join(words), _erased(words, scores, k_percent, "sufficiency")])
    return float(p[0] - p[1])


def aopc(score: Scorer, words, scores, kind: str = "comprehensiveness", ks=KS) -> float:
    """The mean over ks of comprehensiveness (or sufficiency), all variants scored in one call."""
    p = score([" ".join(words)] + [_erased(words, scores, k, kind) for k in ks])
    return float(p[0] - np.mean(p[1:]))


# ---------------------------------------------------------------------------
# faithfulness
# ---------------------------------------------------------------------------

FAITHFULNESS_NOTE = ("AOPC over k = {ks}% of the words; comprehensiveness: higher is better, "
                     "sufficiency: LOWER is better; seconds_per_text: the attribution alone")


def faithfulness(model, tokenizer, texts: list[str], methods=METHODS + ("random",), ks=KS, seed: int = 0,
                 batch_size: int = 64, max_length: int = MAX_LENGTH, per_text: bool = False,
                 progress: bool = False):
    """ERASER AOPC per method on word-level attributions (pieces merged with sum), averaged over texts.

    One row per method: method, comprehensiveness (higher is better), sufficiency (LOWER is better),
    seconds_per_text (the attribution call alone), n_texts. per_text=True returns one row per
    (text, method) instead, with the text's index and P(toxic). "random" uses seed + the text's index."""
    import pandas as pd
    from tqdm.auto import tqdm

    texts = list(texts)
    methods = list(methods)
    for m in methods:
        if m not in METHODS + ("random",):
            raise ValueError(f"faithfulness: method {m!r}: unknown; use any of {', '.join(METHODS + ('random',))}.")
    if "ig" in methods:
        import captum.attr  # noqa: F401 - imported here so its first use is not timed as IG's
    score = scorer(model, tokenizer, batch_size, max_length)
    rows = []
    for i, text in enumerate(tqdm(texts, desc="faithfulness", unit="text", disable=not progress)):
        attributed = {}
        for m in methods:
            t = time.perf_counter()
            if m == "random":
                a = random_attribution(tokenizer, text, seed=seed + i, max_length=max_length)
            else:
                a = explain(model, tokenizer, text, m, max_length=max_length)
            attributed[m] = (a.words(), time.perf_counter() - t)
        # every removal variant of this text, for every method, in one scorer call
        wanted = {(m, kind, k): _erased(w.tokens, w.scores, k, kind)
                  for m, (w, _) in attributed.items() for kind in KINDS for k in ks}
        fulls = {m: " ".join(w.tokens) for m, (w, _) in attributed.items()}
        unique = list(dict.fromkeys([*fulls.values(), *wanted.values()]))
        p = dict(zip(unique, score(unique)))
        for m, (w, seconds) in attributed.items():
            full = p[fulls[m]]
            rows.append({"text_index": i, "method": m, "p_toxic": full, "n_words": len(w.tokens),
                         **{kind: float(np.mean([full - p[wanted[m, kind, k]] for k in ks])) for kind in KINDS},
                         "seconds": seconds})
    df = pd.DataFrame(rows, columns=["text_index", "method", "p_toxic", "n_words", *KINDS, "seconds"])
    return df if per_text else faithfulness_table(df, methods, ks)


def faithfulness_table(per_text, methods=None, ks=KS):
    """Average faithfulness(..., per_text=True) rows into one row per method (e.g. for a subset of the texts)."""
    methods = list(dict.fromkeys(per_text["method"])) if methods is None else list(methods)
    table = (per_text.groupby("method", sort=False)
             .agg(comprehensiveness=("comprehensiveness", "mean"), sufficiency=("sufficiency", "mean"),
                  seconds_per_text=("seconds", "mean"), n_texts=("text_index", "size"))
             .reindex(methods).rename_axis("method").reset_index())
    table["n_texts"] = table["n_texts"].fillna(0).astype(int)
    table.attrs["note"] = FAITHFULNESS_NOTE.format(ks=", ".join(str(k) for k in ks))
    return table


# ---------------------------------------------------------------------------
# the model-randomisation sanity check (Adebayo et al. 2018)
# ---------------------------------------------------------------------------

def randomized_copy(model, seed: int = 0):
    """A deep copy of `model` with every parameter re-initialised (the weights it learned are gone)."""
    import torch

    out = copy.deepcopy(model)
    torch.manual_seed(seed)
    with torch.no_grad():
        for module in out.modules():
            if hasattr(module, "reset_parameters"):  # Linear, Embedding, LayerNorm: PyTorch's default init
                module.reset_parameters()
    return out


def sanity_rank_correlation(explainer: Callable, model, randomized, tokenizer, texts: Sequence[str]) -> float:
    """Mean Spearman correlation of word attributions from `model` and from its randomized copy.

    `explainer(model, tokenizer, text) -> Attribution`. An explainer that reads the model gives a low
    value (well under 0.5); one that ignores the weights gives about 1. NaN when no text has 2+ words."""
    from scipy.stats import spearmanr

    rhos = []
    for text in texts:
        a, b = explainer(model, tokenizer, text).words(), explainer(randomized, tokenizer, text).words()
        assert a.tokens == b.tokens, f"the two explanations of {text!r} have different words"
        if len(a.tokens) >= 2:
            rho = spearmanr(a.scores, b.scores).statistic
            rhos.append(1.0 if np.isnan(rho) and np.allclose(a.scores, b.scores) else rho)
    return float(np.nanmean(rhos)) if rhos and not np.all(np.isnan(rhos)) else float("nan")


# ---------------------------------------------------------------------------
# term statistics
# ---------------------------------------------------------------------------

def term_toxicity(texts, labels, terms):
    """Per term: n texts containing it as a whole word or phrase (case-insensitive) and the toxic share among them.

    Terms match as toxlab.identity.term_pattern has it: "gay" matches "Gay", "gay-friendly" and "gay." but not
    "gaylord" or "gays"."""
    import pandas as pd

    texts = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    labels = np.asarray(list(labels), dtype=float)
    if len(texts) != len(labels):
        raise ValueError(f"term_toxicity: {len(texts)} texts but {len(labels)} labels; give one label per text.")
    rows = []
    for term in terms:
        hit = texts.str.contains(term_pattern(term), regex=True).to_numpy(dtype=bool)
        n = int(hit.sum())
        rows.append({"term": term, "n": n, "p_toxic": float(labels[hit].mean()) if n else float("nan")})
    return pd.DataFrame(rows, columns=["term", "n", "p_toxic"])


# ---------------------------------------------------------------------------
# pictures
# ---------------------------------------------------------------------------

def _scaled(scores, vmax: float | None = None) -> np.ndarray:
    """Scores divided by vmax (default: their largest magnitude), clipped to [-1, 1]; all zeros stay zeros."""
    s = np.nan_to_num(np.asarray(scores, dtype=float).reshape(-1))
    top = vmax if vmax is not None else (np.abs(s).max() if len(s) else 0.0)
    return np.clip(s / top, -1, 1) if top > 0 else s


def heatmap_html(words: list[str], scores, title: str | None = None, vmax: float | None = None) -> str:
    """Words as inline spans: red toward toxic, blue away from it, opacity scaled by max |score| (or vmax)."""
    if len(words) != len(np.asarray(scores).reshape(-1)):
        raise ValueError(f"heatmap_html: {len(words)} words but {len(np.asarray(scores).reshape(-1))} scores.")
    spans = []
    for word, s, raw in zip(words, _scaled(scores, vmax), np.asarray(scores, dtype=float).reshape(-1)):
        rgb = "220,38,38" if s > 0 else "37,99,235"
        spans.append(f'<span title="{raw:+.4f}" style="background:rgba({rgb},{abs(s):.3f});'
                     f'padding:1px 2px;margin:1px;border-radius:3px">{html.escape(word)}</span>')
    head = f'<div style="font-weight:bold;margin-top:8px">{html.escape(title)}</div>' if title else ""
    return f'{head}<div style="line-height:1.9;font-family:sans-serif">{" ".join(spans)}</div>'


def _caption(a: Attribution) -> str:
    p = "" if np.isnan(a.p_toxic) else f"P(toxic) {a.p_toxic:.3f}, "
    return f"{p}{a.method}"


def shared_vmax(attributions: list[Attribution]) -> float:
    """The largest |word score| over several attributions: one colour scale for all of them."""
    return max((float(np.abs(np.nan_to_num(a.words().scores)).max()) for a in attributions if len(a.tokens)), default=0.0)


def plot_heatmap(attributions: list[Attribution], path=None, width: int = 90, scale: str = "shared"):
    """One block per attribution: its words on coloured boxes (red toward toxic, blue away), wrapped at width chars.

    scale="shared": one colour scale for all rows (compare texts; a text the model finds harmless stays
    pale); scale="row": each row scaled by its own max |score| (use it to compare different methods)."""
    import matplotlib.pyplot as plt

    if scale not in ("shared", "row"):
        raise ValueError(f"plot_heatmap: scale={scale!r}; use 'shared' or 'row'.")
    cmap = plt.get_cmap("bwr")
    vmax = shared_vmax(attributions) if scale == "shared" else None
    blocks = []
    for a in attributions:
        w = a.words()
        lines, line, used = [], [], 0
        for word, s in zip(w.tokens, _scaled(w.scores, vmax)):
            if line and used + len(word) + 1 > width:
                lines.append(line)
                line, used = [], 0
            line.append((word, s))
            used += len(word) + 1
        lines.append(line)
        blocks.append((w, lines))
    n_rows = sum(1 + len(lines) for _, lines in blocks) or 1
    fig = plt.figure(figsize=(0.09 * width + 0.4, 0.28 * n_rows + 0.3))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    ax.set_xlim(-0.5, width + 1)
    ax.set_ylim(n_rows - 0.3, -0.7)
    y = 0
    for w, lines in blocks:
        ax.text(0, y, _caption(w), fontsize=8, color="0.3", va="center", parse_math=False)
        y += 1
        for line in lines:
            x = 0.0
            for word, s in line:
                ax.text(x, y, word, family="monospace", fontsize=9, va="center", parse_math=False,
                        color="white" if abs(s) > 0.6 else "black",  # readable on the darkest boxes
                        bbox={"facecolor": cmap(0.5 + 0.5 * s), "edgecolor": "none", "pad": 1.5})
                x += len(word) + 1
            y += 1
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_faithfulness(table, path=None):
    """Bars of AOPC comprehensiveness (higher is better) and sufficiency (lower is better) per method."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    methods = list(table["method"])
    for ax, col, better in zip(axes, KINDS, ("higher", "lower")):
        values = table[col].to_numpy(dtype=float)
        colors = ["0.65" if m == "random" else "tab:blue" for m in methods]
        bars = ax.bar(methods, values, color=colors)
        for bar, m in zip(bars, methods):
            if m == "random":
                bar.set_hatch("//")
                ax.axhline(bar.get_height(), color="0.35", linestyle="--", linewidth=1, label="random")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(f"AOPC {col} ({better} is better)", fontsize=10)
        if "random" in methods:
            ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
