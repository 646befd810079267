"""toxlab.explain: pure functions by hand, the methods' definitions on tiny BERTs, IG completeness,
the model-randomisation sanity check (Adebayo et al. 2018), faithfulness against random, the CLI."""

import io
import math
import subprocess
import sys

import numpy as np
import pytest

from toxlab import explain as E
from toxlab.cli import main


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Every model here is tiny: one torch thread is faster than two fighting other jobs for 2 cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- merge_words, top_k, n_top ---------------------------------------------------------------


def test_merge_words_sums_pieces_into_words():
    words, scores = E.merge_words(["you", "are", "st", "##up", "##id"], [.1, .2, .3, .4, .5])
    assert words == ["you", "are", "stupid"]
    np.testing.assert_allclose(scores, [.1, .2, 1.2])
    assert scores.dtype == float


def test_merge_words_drops_specials_and_reduces_by_mean_or_max():
    tokens = ["[CLS]", "go", "##rilla", "!", "[SEP]", "[PAD]"]
    scores = [9, 1, 3, -2, 9, 9]
    assert E.merge_words(tokens, scores)[0] == ["gorilla", "!"]
    np.testing.assert_allclose(E.merge_words(tokens, scores, "mean")[1], [2, -2])
    np.testing.assert_allclose(E.merge_words(tokens, scores, "max")[1], [3, -2])
    assert E.merge_words(["##ly", "fine"], [1, 2])[0] == ["ly", "fine"]  # a leading "##" piece starts a word
    assert E.merge_words([], [])[0] == []
    with pytest.raises(ValueError, match="reduce"):
        E.merge_words(["a"], [1], "median")
    with pytest.raises(ValueError, match="2 tokens but 1 scores"):
        E.merge_words(["a", "b"], [1])


def test_top_k_is_signed_highest_first_ties_to_the_lower_index_and_clipped():
    assert E.top_k([1, 3, 3, 2], 2) == [1, 2]
    assert E.top_k([1, 3, 3, 2], 3) == [1, 2, 3]
    assert E.top_k([-5, 1], 1) == [1]  # signed, not |score|
    assert E.top_k([0.5, np.nan, 0.1], 2) == [0, 2]  # NaN is never "top"
    assert E.top_k([1, 2], 0) == [] and E.top_k([1, 2], -3) == []
    assert E.top_k([1, 2], 10) == [1, 0]
    assert E.top_k([], 3) == []


def test_n_top_edge_cases_and_exact_arithmetic():
    assert E.n_top(0, 50) == 0
    assert E.n_top(10, 10) == 1 and E.n_top(10, 1) == 1 and E.n_top(10, 0) == 1  # at least one token
    assert E.n_top(3, 50) == 2 and E.n_top(7, 100) == 7 and E.n_top(7, 500) == 7
    assert E.n_top(10, 15) == 2 and E.n_top(100, 20) == 20
    assert E.n_top(1000, 0.3) == 3  # float: 1000 * 0.3 / 100 is 3.0000000000000004 in floats
    assert E.n_top(20, 12.5) == 3
    for n in range(1, 301):  # int k: exactly ceil(n * k / 100), clipped
        for k in E.KS:
            assert E.n_top(n, k) == min(n, max(1, (n * k + 99) // 100))
    with pytest.raises(ValueError, match="k_percent"):
        E.n_top(10, -5)


# --- comprehensiveness, sufficiency, AOPC on a toy scorer ------------------------------------

WEIGHTS = {"you": 0.1, "stupid": 2.0, "are": 0.0}


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


class ToyScorer:
    """P(toxic) = sigmoid(sum of word weights); records every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return [sigmoid(sum(WEIGHTS.get(w, 0.0) for w in t.split())) for t in texts]


def test_comprehensiveness_and_sufficiency_by_hand():
    words, scores = ["you", "are", "stupid"], [0.1, 0.0, 2.0]
    score = ToyScorer()
    # top 10% of 3 words = 1 word: "stupid"
    assert E.comprehensiveness(score, words, scores, 10) == pytest.approx(sigmoid(2.1) - sigmoid(0.1))
    assert score.calls[-1] == ["you are stupid", "you are"]
    assert E.sufficiency(score, words, scores, 10) == pytest.approx(sigmoid(2.1) - sigmoid(2.0))
    assert score.calls[-1] == ["you are stupid", "stupid"]
    # top 50% = 2 words: "stupid", then "you"; sufficiency keeps their original order
    assert E.comprehensiveness(score, words, scores, 50) == pytest.approx(sigmoid(2.1) - sigmoid(0.0))
    assert E.sufficiency(score, words, scores, 50) == pytest.approx(0.0)
    assert score.calls[-1] == ["you are stupid", "you stupid"]


def test_aopc_is_the_mean_over_ks_in_one_scorer_call():
    words, scores = ["you", "are", "stupid"], [0.1, 0.0, 2.0]
    score = ToyScorer()
    comp = E.aopc(score, words, scores, "comprehensiveness", ks=(10, 50))
    assert comp == pytest.approx(sigmoid(2.1) - (sigmoid(0.1) + sigmoid(0.0)) / 2)
    assert len(score.calls) == 1 and score.calls[0] == ["you are stupid", "you are", "are"]
    suff = E.aopc(score, words, scores, "sufficiency", ks=(10, 50))
    assert suff == pytest.approx(sigmoid(2.1) - (sigmoid(2.0) + sigmoid(2.1)) / 2)
    # a bad ranking (stupid last) has lower comprehensiveness and higher sufficiency
    assert E.aopc(score, words, [1, 2, 0], "comprehensiveness", (10, 50)) < comp
    assert E.aopc(score, words, [1, 2, 0], "sufficiency", (10, 50)) > suff
    assert E.aopc(score, [], [], "comprehensiveness") == 0.0  # an empty text: nothing to remove
    with pytest.raises(ValueError, match="kind"):
        E.aopc(score, words, scores, "completeness")


# --- term_toxicity and the pictures -----------------------------------------------------------

def test_term_toxicity_matches_whole_words_and_phrases_case_insensitively():
    texts = ["You are GAY", "gaylord was here", "gay-friendly cafe", "the gays", "African American history",
             "an African-American author", "african and american", "Muslim."]
    labels = [1, 0, 0, 1, 1, 0, 1, 0]
    df = E.term_toxicity(texts, labels, ["gay", "african american", "muslim", "jewish"])
    assert list(df.columns) == ["term", "n", "p_toxic"]
    assert df["term"].tolist() == ["gay", "african american", "muslim", "jewish"]
    # "gay" matches "GAY" and "gay-friendly", not "gaylord" or "gays"; hyphens join a phrase's words
    assert df["n"].tolist() == [2, 2, 1, 0]
    assert df["p_toxic"].tolist()[:3] == [0.5, 0.5, 0.0] and math.isnan(df["p_toxic"].iloc[3])
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        E.term_toxicity(["a", "b"], [1], ["a"])


def test_heatmap_html_escapes_and_colours_by_sign():
    out = E.heatmap_html(["<script>alert(1)</script>", "nice", "zero"], [1.0, -0.5, 0.0], title="a <b> title")
    assert "<script>" not in out and "&lt;script&gt;" in out and "a &lt;b&gt; title" in out
    assert "rgba(220,38,38,1.000)" in out  # the largest positive: full red
    assert "rgba(37,99,235,0.500)" in out  # half the largest magnitude, negative: half blue
    assert "0.000)" in out
    assert "rgba(220,38,38,0.500)" in E.heatmap_html(["a"], [1.0], vmax=2.0)  # a shared scale
    with pytest.raises(ValueError, match="2 words but 1 scores"):
        E.heatmap_html(["a", "b"], [1.0])


def test_plots_write_pngs(tmp_path):
    a = E.Attribution("you are st $x$", ["you", "are", "st", "##up", "$x$"], [0.1, -0.2, 0.3, 0.4, 0.0], "gxi", 0.7)
    fig = E.plot_heatmap([a, E.Attribution("", [], [], "ig", 0.1)], tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 1000 and fig.axes
    import pandas as pd

    table = pd.DataFrame({"method": ["ig", "random"], "comprehensiveness": [0.3, 0.1], "sufficiency": [0.05, 0.2]})
    E.plot_faithfulness(table, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
    import matplotlib.pyplot as plt

    plt.close("all")


def test_attribution_words_and_shape_check():
    a = E.Attribution("you are stupid", ["you", "are", "st", "##up", "##id"], [.1, .2, .3, .4, .5], "ig", 0.9)
    w = a.words()
    assert (w.tokens, w.method, w.p_toxic, w.text, w.level) == (["you", "are", "stupid"], "ig", 0.9, a.text, "word")
    np.testing.assert_allclose(w.scores, [.1, .2, 1.2])
    assert a.tokens == ["you", "are", "st", "##up", "##id"]  # unchanged
    assert w.words().tokens == w.tokens
    with pytest.raises(ValueError, match="one score per token"):
        E.Attribution("x", ["a", "b"], [1.0], "ig", 0.5)


def test_import_is_light():
    code = "import sys, toxlab.explain; assert not {'torch', 'captum', 'transformers'} & set(sys.modules), sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the methods on a tiny random BERT ---------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(minilm_tokenizer):
    """A tiny random BERT whose P(toxic) varies between texts (initializer_range 0.2)."""
    from toxlab.models import tiny_bert

    return tiny_bert(seed=0, initializer_range=0.2), minilm_tokenizer


def _p(model, tokenizer, ids) -> float:
    import torch

    with torch.no_grad():
        return torch.softmax(model(input_ids=torch.tensor([ids])).logits, -1)[0, 1].item()


@pytest.mark.parametrize("method", [*E.METHODS, "random"])
def test_methods_leave_the_model_as_they_found_it(tiny, method):
    model, tok = tiny
    model.train()  # a model in training mode stays so; dropout is off while attributing
    grads = [p.requires_grad for p in model.parameters()]
    impl = model.config._attn_implementation
    a = E.explain(model, tok, "You are a STUPID idiot!!", method)
    b = E.explain(model, tok, "You are a STUPID idiot!!", method)
    assert a.tokens == ["you", "are", "a", "stupid", "idiot", "!", "!"] and a.method == method
    assert a.scores.shape == (7,) and np.isfinite(a.scores).all()
    assert method == "random" or np.allclose(a.scores, b.scores, atol=1e-6)  # no dropout
    assert a.p_toxic == pytest.approx(E.scorer(model, tok)(["You are a STUPID idiot!!"])[0], abs=1e-5)
    assert model.training and [p.requires_grad for p in model.parameters()] == grads
    assert all(p.grad is None for p in model.parameters())
    assert model.config._attn_implementation == impl
    model.eval()
    empty = E.explain(model, tok, "", method)
    assert empty.tokens == [] and empty.scores.shape == (0,) and 0 <= empty.p_toxic <= 1


def test_scorer_matches_predict_and_takes_empty_text(tiny):
    from toxlab.inference import predict

    model, tok = tiny
    texts = ["", "hi", "you are stupid " * 200, "what an idiot"]  # one longer than max_length
    p = E.scorer(model, tok, batch_size=2)(texts)
    assert isinstance(p, list) and len(p) == 4
    np.testing.assert_allclose(p, [r["p_toxic"] for r in predict(texts, model, tok)], atol=1e-5)
    assert E.scorer(model, tok)([]) == []
    with pytest.raises(TypeError, match="list of strings"):
        E.scorer(model, tok)("one string")


def test_occlusion_definitions(tiny):
    model, tok = tiny
    text = "what an idiot you are"
    ids = tok(text)["input_ids"]
    a = E.occlusion(model, tok, text)
    assert a.tokens == ["what", "an", "idiot", "you", "are"]
    full = _p(model, tok, ids)
    assert a.scores[2] == pytest.approx(full - _p(model, tok, ids[:3] + ids[4:]), abs=1e-5)
    w = E.occlusion(model, tok, "What an  idiot!", level="word")
    score = E.scorer(model, tok)
    assert (w.tokens, w.method, w.level) == (["What", "an", "idiot!"], "occlusion-word", "word")
    np.testing.assert_allclose(w.scores, np.array(score(["What an  idiot!"] * 3))
                               - score(["an idiot!", "What idiot!", "What an"]), atol=1e-5)
    with pytest.raises(ValueError, match="level"):
        E.occlusion(model, tok, text, level="sentence")


def test_gradient_x_input_definition(tiny):
    import torch

    model, tok = tiny
    ids = torch.tensor([tok("what an idiot")["input_ids"]])
    emb = model.get_input_embeddings()(ids).detach().requires_grad_(True)
    p = torch.softmax(model(inputs_embeds=emb).logits, -1)[0, 1]
    p.backward()
    expected = (emb.grad * emb).sum(-1)[0, 1:-1].detach().numpy()
    np.testing.assert_allclose(E.gradient_x_input(model, tok, "what an idiot").scores, expected, rtol=1e-4, atol=1e-7)


def test_attention_is_the_cls_row_averaged_over_heads(tiny):
    model, tok = tiny
    a = E.attention(model, tok, "what an idiot")
    model.set_attn_implementation("eager")
    try:
        import torch

        with torch.no_grad():
            att = model(**tok("what an idiot", return_tensors="pt"), output_attentions=True).attentions
    finally:
        model.set_attn_implementation("sdpa")
    np.testing.assert_allclose(a.scores, att[-1][0, :, 0, 1:-1].mean(0).numpy(), atol=1e-6)
    np.testing.assert_allclose(E.attention(model, tok, "what an idiot", layer=0).scores,
                               att[0][0, :, 0, 1:-1].mean(0).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="2 layers"):
        E.attention(model, tok, "x", layer=5)


def test_explain_dispatch_and_unknown_method(tiny):
    model, tok = tiny
    assert E.explain(model, tok, "what an idiot", "occlusion", level="word").method == "occlusion-word"
    with pytest.raises(ValueError, match="occlusion, gxi, ig, attention, random"):
        E.explain(model, tok, "x", "lime")
    with pytest.raises(ValueError, match="baseline"):
        E.integrated_gradients(model, tok, "x", baseline="blur")


def test_random_attribution_is_seeded_and_per_word(minilm_tokenizer):
    a = E.random_attribution(minilm_tokenizer, "you are stupidest", seed=3)
    assert a.tokens == ["you", "are", "stupidest"] and a.level == "word" and math.isnan(a.p_toxic)
    assert np.array_equal(a.scores, E.random_attribution(minilm_tokenizer, "you are stupidest", seed=3).scores)
    assert not np.array_equal(a.scores, E.random_attribution(minilm_tokenizer, "you are stupidest", seed=4).scores)
    pieces = E.random_attribution(minilm_tokenizer, "stupidest", words=False)
    assert len(pieces.tokens) > 1 and pieces.level == "token"
    assert E.random_attribution(None, "Hello  World!").tokens == ["Hello", "World!"]


@pytest.mark.parametrize("baseline", ["pad", "mask", "zero"])
@pytest.mark.parametrize("text", ["what an idiot", "you are stupid"])
def test_integrated_gradients_completeness(tiny, baseline, text):
    """Sum of IG attributions = P(toxic | text) - P(toxic | baseline), at enough steps."""
    import torch

    model, tok = tiny
    ids = tok(text)["input_ids"]
    a = E.integrated_gradients(model, tok, text, n_steps=64, baseline=baseline)
    fill = {"pad": tok.pad_token_id, "mask": tok.mask_token_id}.get(baseline)
    if fill is None:  # zero embeddings for the content pieces
        emb = model.get_input_embeddings()(torch.tensor([ids])).detach()
        emb[0, 1:-1] = 0
        with torch.no_grad():
            f_base = torch.softmax(model(inputs_embeds=emb).logits, -1)[0, 1].item()
    else:
        f_base = _p(model, tok, [ids[0]] + [fill] * (len(ids) - 2) + [ids[-1]])
    gap = _p(model, tok, ids) - f_base
    assert abs(gap) > 0.01, "the test needs a model whose output moves between baseline and text"
    assert a.scores.sum() == pytest.approx(gap, abs=1e-3 + 0.01 * abs(gap))
    assert a.delta == pytest.approx(a.scores.sum() - gap, abs=1e-4)


# --- a tiny BERT trained on a keyword task: sanity check and faithfulness ----------------------

NEUTRAL = ("the cat sat on a mat dog ran in park today we like green apples river house blue car book read "
           "table window music happy morning friend city walk").split()
KEYWORDS = ("idiot", "stupid", "moron")  # "moron" is two pieces: mor ##on


def keyword_sentence(rng, toxic: bool) -> str:
    words = list(rng.choice(NEUTRAL, rng.integers(4, 9)))
    if toxic:
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(KEYWORDS)))
    return " ".join(words)


@pytest.fixture(scope="module")
def keyword_model(minilm_tokenizer):
    """A tiny BERT trained for a few seconds: toxic iff a sentence holds one of KEYWORDS."""
    import torch

    from toxlab.models import tiny_bert

    tok = minilm_tokenizer
    rng = np.random.default_rng(0)
    model = tiny_bert(seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    labels = rng.integers(0, 2, (80, 32))  # 80 steps of 32: the loss is near 0 by step 50
    batches = [tok([keyword_sentence(rng, bool(y)) for y in ys], padding=True, return_tensors="pt") for ys in labels]
    model.train()
    for batch, ys in zip(batches, labels):
        loss = torch.nn.functional.cross_entropy(model(**batch).logits, torch.tensor(ys))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    test_rng = np.random.default_rng(1)
    toxic = [keyword_sentence(test_rng, True) for _ in range(8)]
    clean = [keyword_sentence(test_rng, False) for _ in range(4)]
    p = E.scorer(model, tok)(toxic + clean)
    assert min(p[:8]) > 0.9 and max(p[8:]) < 0.1, f"the keyword model did not learn its task: {np.round(p, 3)}"
    return model, tok, toxic, clean


def ig(model, tokenizer, text):
    return E.integrated_gradients(model, tokenizer, text, n_steps=16)


def test_ig_puts_the_keyword_on_top(keyword_model):
    model, tok, toxic, _ = keyword_model
    for text in toxic:
        w = ig(model, tok, text).words()
        assert w.tokens[E.top_k(w.scores, 1)[0]] in KEYWORDS, (text, w.tokens, np.round(w.scores, 3))


@pytest.fixture(scope="module")
def randomized(keyword_model):
    model = keyword_model[0]
    out = E.randomized_copy(model, seed=1)
    same = [name for (name, a), b in zip(model.named_parameters(), out.parameters()) if np.allclose(a.detach(), b.detach())]
    assert not same, f"not re-initialised: {same}"
    return out


def test_sanity_check_passes_for_ig(keyword_model, randomized):
    """Adebayo et al. 2018: attributions of a trained and a randomized model must differ."""
    model, tok, toxic, _ = keyword_model
    rho = E.sanity_rank_correlation(ig, model, randomized, tok, toxic)
    assert rho < 0.5, f"IG ranks words much as it did before the weights were randomized (rho {rho:.2f})"


@pytest.fixture(params=["stale", "model_free"])
def wrong_explainer(request, keyword_model):
    """Explainers that ignore the model they are given; the sanity check must catch them."""
    trained, _, _, _ = keyword_model
    if request.param == "stale":  # keeps explaining the trained model, whatever it is handed
        return lambda model, tokenizer, text: ig(trained, tokenizer, text)

    def word_length(model, tokenizer, text):  # reads no weights at all
        a = E.random_attribution(tokenizer, text)
        return E.Attribution(text, a.tokens, [len(w) for w in a.tokens], "length", float("nan"), level="word")

    return word_length


def test_sanity_check_catches_an_explainer_that_ignores_the_model(wrong_explainer, keyword_model, randomized):
    model, tok, toxic, _ = keyword_model
    assert E.sanity_rank_correlation(wrong_explainer, model, randomized, tok, toxic) >= 0.5


@pytest.fixture(scope="module")
def keyword_faithfulness(keyword_model):
    model, tok, toxic, clean = keyword_model
    return E.faithfulness(model, tok, toxic + clean, seed=0)


def test_faithfulness_table(keyword_faithfulness):
    t = keyword_faithfulness
    assert list(t.columns) == ["method", "comprehensiveness", "sufficiency", "seconds_per_text", "n_texts"]
    assert t["method"].tolist() == [*E.METHODS, "random"] and (t["n_texts"] == 12).all()
    assert (t["seconds_per_text"] > 0).all() and "LOWER is better" in t.attrs["note"]


@pytest.mark.parametrize("method", ["ig", "occlusion"])
def test_ig_and_occlusion_beat_random(keyword_faithfulness, method):
    t = keyword_faithfulness.set_index("method")
    assert t.loc[method, "comprehensiveness"] > t.loc["random", "comprehensiveness"], t
    assert t.loc[method, "sufficiency"] < t.loc["random", "sufficiency"], t


def test_faithfulness_per_text_and_errors(keyword_model):
    model, tok, toxic, _ = keyword_model
    rows = E.faithfulness(model, tok, toxic[:2] + [""], methods=("gxi", "random"), ks=(10, 50), per_text=True)
    assert len(rows) == 6 and set(rows["method"]) == {"gxi", "random"}
    assert (rows[rows["text_index"] == 2][["comprehensiveness", "sufficiency"]] == 0).all().all()  # "" has no words
    assert E.faithfulness_table(rows)["n_texts"].tolist() == [3, 3]
    with pytest.raises(ValueError, match="method 'lime'"):
        E.faithfulness(model, tok, ["x"], methods=("lime",))


# --- the CLI, in process ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory, minilm_tokenizer):
    from toxlab.models import tiny_bert

    folder = tmp_path_factory.mktemp("explain") / "tiny"
    tiny_bert(seed=0, initializer_range=0.2).save_pretrained(folder)
    minilm_tokenizer.save_pretrained(folder)
    return folder


def test_cli_explain_writes_html_and_png_and_refuses_to_overwrite(saved_tiny, tmp_path, capsys):
    out = tmp_path / "ex"
    args = ["explain", "--model", str(saved_tiny), "--out", str(out), "--method", "occlusion"]
    assert main([*args, "you are a <b>stupid</b> idiot", "have a nice day"]) == 0
    printed = capsys.readouterr().out
    assert "P(toxic)" in printed and "stupid" in printed and "wrote explanations.html and explanations.png" in printed
    page = (out / "explanations.html").read_text()
    assert "&lt;b&gt;" in page and "<b>stupid" not in page and "idiot" in page
    assert (out / "explanations.png").stat().st_size > 1000
    assert main([*args, "again"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("toxlab: error: ")
    assert "explanations.html: already exists" in err and "--force" in err
    assert main([*args, "--force", "again"]) == 0


def test_cli_explain_reads_stdin_and_says_what_is_wrong(saved_tiny, tmp_path, capsys, monkeypatch):
    base = ["explain", "--model", str(saved_tiny), "--out", str(tmp_path / "ex")]
    monkeypatch.setattr(sys, "stdin", io.StringIO("you idiot\n\n"))
    assert main([*base, "--method", "gxi"]) == 0 and "'you idiot'" in capsys.readouterr().out
    for argv, words in ([[*base, "--method", "lime", "x"], ["--method lime", "ig"]],
                        [["explain", "--model", str(tmp_path / "missing"), "x"], ["--model", "missing"]],
                        [base, ["TEXT"]]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("toxlab: error: ") and err.count("\n") == 1 and all(w in err for w in words), err


def test_cli_faithfulness_table(saved_tiny, demo_dir, capsys):
    assert main(["explain", "--faithfulness", "--model", str(saved_tiny), "--data", str(demo_dir), "--n", "3"]) == 0
    out = capsys.readouterr().out
    assert "faithfulness on 3 texts" in out and "LOWER is better" in out
    for method in [*E.METHODS, "random"]:
        assert method in out
