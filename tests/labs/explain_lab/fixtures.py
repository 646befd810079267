"""Student-style submissions for the seven autograded exercises of lab 6b (explain_lab).

Written by a reviewer from the exercise texts alone, before looking at the checks. Each WRONG entry
holds one realistic mistake in an otherwise working cell; each CORRECT entry is a differently
written, genuinely correct cell. tests/test_exercises.py runs every one against the checks (the
fixture matrix).

  WRONG   = {exercise: [(name, cell_source, mistake), ...]}
  CORRECT = {exercise: [(name, cell_source), ...]}
  SOLUTION_CELL[exercise] = the grade_id of the solution cell a source replaces
  POINTS[exercise] = the exercise's points in the source notebook
  THROUGH_AUTOGRADE, CORRECT_THROUGH_AUTOGRADE = [(exercise, name)]: the ones the tests also send through
      real nbgrader autograde (the rest are checked in process, on the same plain-data path)
  grade_globals() = what the notebook's setup cells define in grade mode, for checking fixtures in process

A cell source replaces the whole solution cell of the release notebook; it may use the
globals the notebook's setup cells define (np, math, re, score, model, tokenizer). Comprehensiveness
and sufficiency take a ranking of the words, not their scores, so that a wrong top_k (exercise 4)
costs only exercise 4. The Integrated Gradients fixtures (exercise 3) import torch and Captum themselves,
as the solution cell does.
"""

from labs import cell_source as _src

# ---------------------------------------------------------------------------
# Exercise 1: occlusion_scores
# ---------------------------------------------------------------------------

_OCCLUSION_WRONG = [
    ("sign_flipped", _src('''
        def occlusion_scores(score, words):
            words = list(words)
            texts = [" ".join(words)] + [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
            p = score(texts)
            # how much P(toxic) moves when the word is gone
            return [float(q - p[0]) for q in p[1:]]
        '''), "Returns P(without the word) - P(full text): the sign is flipped."),
    ("removes_every_copy", _src('''
        def occlusion_scores(score, words):
            full = " ".join(words)
            texts = [full] + [" ".join(w for w in words if w != word) for word in words]
            p = score(texts)
            return [float(p[0] - q) for q in p[1:]]
        '''), "Leaves a word out by value, so every copy of a repeated word goes at once."),
    ("list_remove_first_copy", _src('''
        def occlusion_scores(score, words):
            texts = [" ".join(words)]
            for word in words:
                rest = list(words)
                rest.remove(word)
                texts.append(" ".join(rest))
            p = score(texts)
            return [float(p[0] - q) for q in p[1:]]
        '''), "list.remove drops the first copy of the word, not the one at this position."),
    ("str_replace", _src('''
        def occlusion_scores(score, words):
            text = " ".join(words)
            texts = [text] + [text.replace(word, "") for word in words]
            p = score(texts)
            return [float(p[0] - q) for q in p[1:]]
        '''), "Removes the word with str.replace: every copy, and inside other words too (and leaves double spaces)."),
    ("misses_last_word", _src('''
        def occlusion_scores(score, words):
            words = list(words)
            texts = [" ".join(words)]
            for i in range(len(words) - 1):
                texts.append(" ".join(words[:i] + words[i + 1:]))
            p = score(texts)
            return [float(p[0] - q) for q in p[1:]]
        '''), "range(len(words) - 1) skips the last word: one score too few."),
    ("string_not_list", _src('''
        def occlusion_scores(score, words):
            full = score(" ".join(words))[0]
            scores = []
            for i in range(len(words)):
                without = score(" ".join(words[:i] + words[i + 1:]))[0]
                scores.append(full - without)
            return scores
        '''), "Passes one string to score, which takes a list of texts."),
    ("absolute_change", _src('''
        def occlusion_scores(score, words):
            words = list(words)
            texts = [" ".join(words)] + [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
            p = score(texts)
            return [abs(float(p[0] - q)) for q in p[1:]]
        '''), "Returns the size of the change, losing its sign (toward or away from toxic)."),
    ("mask_instead_of_leave_out", _src('''
        def occlusion_scores(score, words):
            words = list(words)
            texts = [" ".join(words)] + [" ".join(words[:i] + ["[MASK]"] + words[i + 1:]) for i in range(len(words))]
            p = score(texts)
            return [float(p[0] - q) for q in p[1:]]
        '''), "Replaces the word by [MASK] instead of leaving it out."),
]

_OCCLUSION_CORRECT = [
    ("numpy_array_result", _src('''
        def occlusion_scores(score, words):
            words = list(words)
            texts = [" ".join(words)]
            texts += [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
            p = np.asarray(score(texts), dtype=float)
            return p[0] - p[1:]
        ''')),
    ("one_call_per_text", _src('''
        def occlusion_scores(score, words):
            words = list(words)
            full = score([" ".join(words)])[0]
            result = []
            for i in range(len(words)):
                without = score([" ".join(words[:i] + words[i + 1:])])[0]
                result.append(float(full - without))
            return result
        ''')),
    ("del_on_a_copy", _src('''
        def occlusion_scores(score, words):
            texts = [" ".join(words)]
            for i in range(len(words)):
                rest = list(words)
                del rest[i]
                texts.append(" ".join(rest))
            full, *without = score(texts)
            return [full - q for q in without]
        ''')),
    ("enumerate_skip_position", _src('''
        def occlusion_scores(score, words):
            n = len(words)
            texts = [" ".join(words)]
            for i in range(n):
                texts.append(" ".join(w for j, w in enumerate(words) if j != i))
            probs = list(score(texts))
            return [float(probs[0]) - float(p) for p in probs[1:]]
        ''')),
]


# ---------------------------------------------------------------------------
# Exercise 2: merge_pieces
# ---------------------------------------------------------------------------

_MERGE_WRONG = [
    ("averages_pieces", _src('''
        def merge_pieces(tokens, scores):
            words, groups = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]", "[PAD]"):
                    continue
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    groups[-1].append(float(s))
                else:
                    words.append(token)
                    groups.append([float(s)])
            return words, [sum(g) / len(g) for g in groups]
        '''), "A word's score is the mean of its pieces' scores, not their sum."),
    ("keeps_hashes", _src('''
        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]", "[PAD]"):
                    continue
                if token.startswith("##") and words:
                    words[-1] += token
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Appends the continuation piece with its ## still on ('un##bel##ievable')."),
    ("keeps_specials", _src('''
        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Keeps [CLS], [SEP] and [PAD] as words."),
    ("forgets_pad", _src('''
        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]"):
                    continue
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Drops [CLS] and [SEP] but keeps [PAD] tokens as words."),
    ("drops_bracketed_tokens", _src('''
        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token.startswith("[") and token.endswith("]"):  # special tokens
                    continue
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Drops every bracketed token as special, [UNK] included."),
    ("drops_punctuation", _src('''
        import string


        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]", "[PAD]") or token in string.punctuation:
                    continue
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Drops punctuation tokens, which the text says to keep as words."),
    ("first_piece_score", _src('''
        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]", "[PAD]"):
                    continue
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Glues the pieces together but keeps only the first piece's score."),
    ("filters_then_zips", _src('''
        def merge_pieces(tokens, scores):
            tokens = [t for t in tokens if t not in ("[CLS]", "[SEP]", "[PAD]")]
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Filters the special tokens out of tokens but not out of scores: every score shifts by one position."),
    ("single_hash_continues", _src('''
        def merge_pieces(tokens, scores):
            words, merged = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]", "[PAD]"):
                    continue
                if token.startswith("#") and words:
                    words[-1] += token.lstrip("#")
                    merged[-1] += float(s)
                else:
                    words.append(token)
                    merged.append(float(s))
            return words, merged
        '''), "Tests for one '#', so a '#' punctuation token (or '#hashtag' piece) is glued to the word before it."),
    ("dict_by_word", _src('''
        def merge_pieces(tokens, scores):
            words, pieces = [], []
            for token, s in zip(tokens, scores):
                if token in ("[CLS]", "[SEP]", "[PAD]"):
                    continue
                if token.startswith("##") and words:
                    words[-1] += token[2:]
                    pieces[-1].append(float(s))
                else:
                    words.append(token)
                    pieces.append([float(s)])
            by_word = {}
            for word, ps in zip(words, pieces):
                by_word[word] = sum(ps)
            return list(by_word), list(by_word.values())
        '''), "Collects the scores in a dict keyed by word, so a repeated word collapses into one entry."),
]

_MERGE_CORRECT = [
    ("flush_buffer", _src('''
        def merge_pieces(tokens, scores):
            words, word_scores = [], []
            current, total = None, 0.0
            for token, s in zip(tokens, scores):
                if token in {"[CLS]", "[SEP]", "[PAD]"}:
                    continue
                if token.startswith("##") and current is not None:
                    current += token[2:]
                    total += float(s)
                    continue
                if current is not None:
                    words.append(current)
                    word_scores.append(total)
                current, total = token, float(s)
            if current is not None:
                words.append(current)
                word_scores.append(total)
            return words, word_scores
        ''')),
    ("bincount_word_ids", _src('''
        def merge_pieces(tokens, scores):
            scores = np.asarray(scores, dtype=float)
            words, ids, keep = [], [], []
            for i, token in enumerate(tokens):
                if token in ("[CLS]", "[SEP]", "[PAD]"):
                    continue
                if token.startswith("##") and words:
                    words[-1] = words[-1] + token[2:]
                else:
                    words.append(token)
                ids.append(len(words) - 1)
                keep.append(i)
            sums = np.bincount(np.asarray(ids, dtype=int), weights=scores[keep], minlength=len(words))
            return words, [float(x) for x in sums]
        ''')),
    ("groups_of_pieces", _src('''
        SPECIAL = ("[CLS]", "[SEP]", "[PAD]")


        def merge_pieces(tokens, scores):
            groups = []
            for token, s in zip(tokens, scores):
                if token in SPECIAL:
                    continue
                if groups and token[:2] == "##":
                    groups[-1].append((token[2:], s))
                else:
                    groups.append([(token, s)])
            words = ["".join(p for p, _ in g) for g in groups]
            return words, [float(sum(s for _, s in g)) for g in groups]
        ''')),
    ("tuple_of_lists_numpy_sums", _src('''
        def merge_pieces(tokens, scores):
            out_words = []
            out_scores = []
            for token, s in zip(list(tokens), np.asarray(scores, dtype=float)):
                if token == "[CLS]" or token == "[SEP]" or token == "[PAD]":
                    continue
                if len(out_words) > 0 and token.startswith("##"):
                    out_words[-1] = out_words[-1] + token[len("##"):]
                    out_scores[-1] = out_scores[-1] + s
                else:
                    out_words.append(token)
                    out_scores.append(s)
            return out_words, [float(x) for x in out_scores]
        ''')),
]


# ---------------------------------------------------------------------------
# Exercise 3: ig_scores (Integrated Gradients with Captum)
# ---------------------------------------------------------------------------

_IG_WRONG = [
    ("sums_over_the_tokens", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.sum(dim=1)[0].tolist(), delta.item(), n_steps
        '''), "Sums the attributions over the tokens (axis 1) instead of the embedding size: one number per dimension."),
    ("baseline_aliases_the_input", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids  # the same tensor: setting its pieces changes the input too
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "No .clone(): the baseline is the input itself, so the path has length 0 and every score is 0."),
    ("baseline_replaces_cls_and_sep", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = torch.full_like(ids, baseline_id)

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Fills the whole baseline with baseline_id, [CLS] and [SEP] too."),
    ("normalised_like_the_tutorial", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            scores = attributions.sum(dim=-1)[0]
            scores = scores / torch.norm(scores)  # as Captum's BERT tutorial does
            return scores.tolist(), delta.item(), n_steps
        '''), "Divides the scores by their norm (as Captum's BERT tutorial does): they no longer add up."),
    ("toxic_logit", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def toxic_logit(input_ids):
                return model(input_ids=input_ids).logits[:, 1]

            lig = LayerIntegratedGradients(toxic_logit, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Attributes the toxic logit, not P(toxic): the scores add up to a change in logits."),
    ("mean_over_the_embedding", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.mean(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Averages over the embedding size instead of summing: the scores shrink and no longer add up."),
    ("ignores_baseline_id", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = tokenizer.pad_token_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Always builds the baseline from [PAD], whatever baseline_id it is given."),
    ("whole_embeddings_module", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            # the embeddings module, as in Captum's BERT tutorial: word + position embeddings, then LayerNorm
            lig = LayerIntegratedGradients(p_toxic, model.bert.embeddings)
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Integrates over the whole embeddings module (after its LayerNorm), not the word-embedding layer."),
    ("signed_delta_below_tol", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if delta.item() < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Compares delta, not |delta|, with tol: any negative delta, however large, stops the search."),
    ("always_the_most_steps", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            n_steps = max(steps)  # the most steps is the most precise
            attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                return_convergence_delta=True)
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Ignores the delta: always takes the most steps, not the first step count within tol."),
    ("first_step_count_only", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            n_steps = steps[0]  # the fastest
            attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                return_convergence_delta=True)
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Too few steps: always the first step count, whatever its delta."),
    ("last_step_count_within_tol", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            best = None
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    best = (attributions, delta, n_steps)  # no break: a later one overwrites it
            attributions, delta, n_steps = best if best is not None else (attributions, delta, n_steps)
            return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Keeps going after the first step count within tol (no break), so it returns the last one within it."),
    ("none_when_no_count_is_within_tol", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    return attributions.sum(dim=-1)[0].tolist(), delta.item(), n_steps
        '''), "Returns only from inside the loop: when no step count gets |delta| under tol it returns None."),
    ("returns_the_size_of_delta", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            baseline = ids.clone()
            baseline[0, 1:-1] = baseline_id

            def p_toxic(input_ids):
                return torch.softmax(model(input_ids=input_ids).logits, dim=-1)[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            for n_steps in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n_steps,
                                                    return_convergence_delta=True)
                delta = abs(delta.item())
                if delta < tol:
                    break
            return attributions.sum(dim=-1)[0].tolist(), delta, n_steps
        '''), "Returns |delta|, not delta: a negative delta's sign, which completeness needs, is lost."),
]

_IG_CORRECT = [
    ("softmax_rows_target_and_mask", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            enc = tokenizer(text, return_tensors="pt").to(model.device)
            ids, mask = enc["input_ids"], enc["attention_mask"]
            base = ids.clone()
            base[:, 1:-1] = baseline_id

            def forward(input_ids, attention_mask):  # (batch, 2); target=1 picks P(toxic)
                return torch.softmax(model(input_ids=input_ids, attention_mask=attention_mask).logits, dim=-1)

            lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
            for n in steps:
                attr, delta = lig.attribute(ids, baselines=base, additional_forward_args=(mask,), target=1,
                                            n_steps=n, return_convergence_delta=True)
                if abs(float(delta)) < tol:
                    break
            return attr.sum(-1).squeeze(0).detach().cpu().numpy(), float(delta), n
        ''')),
    ("integrated_gradients_on_the_embeddings", _src('''
        import torch
        from captum.attr import IntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
            base_ids = ids.clone()
            base_ids[0, 1:-1] = baseline_id
            embed = model.get_input_embeddings()
            x, x0 = embed(ids).detach(), embed(base_ids).detach()
            # the same straight path, between the two texts' word embeddings
            ig = IntegratedGradients(lambda e: torch.softmax(model(inputs_embeds=e).logits, dim=-1)[:, 1])
            for n in steps:
                attr, delta = ig.attribute(x, baselines=x0, n_steps=n, return_convergence_delta=True)
                if abs(delta.item()) < tol:
                    break
            return [float(v) for v in attr.sum(dim=2)[0]], delta.item(), int(n)
        ''')),
    ("index_loop_tensor_answers", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            input_ids = tokenizer(text, return_tensors="pt").input_ids.to(model.device)
            baseline = input_ids.clone()
            baseline[0, 1:input_ids.shape[1] - 1] = baseline_id
            lig = LayerIntegratedGradients(lambda i: model(input_ids=i).logits.softmax(-1)[:, 1],
                                           model.get_input_embeddings())
            i = 0
            while True:
                attributions, delta = lig.attribute(input_ids, baselines=baseline, n_steps=steps[i],
                                                    return_convergence_delta=True)
                if delta.abs().item() < tol or i == len(steps) - 1:
                    return attributions.sum(-1)[0], delta, steps[i]
                i += 1
        ''')),
    ("special_tokens_mask", _src('''
        import torch
        from captum.attr import LayerIntegratedGradients


        def ig_scores(model, tokenizer, text, baseline_id, steps, tol):
            enc = tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
            ids = enc["input_ids"].to(model.device)
            special = enc["special_tokens_mask"].bool().to(model.device)
            baseline = torch.where(special, ids, torch.full_like(ids, baseline_id))

            def p_toxic(batch_ids):
                probs = torch.softmax(model(input_ids=batch_ids).logits, dim=-1)
                return probs[:, 1]

            lig = LayerIntegratedGradients(p_toxic, model.get_input_embeddings())
            result = None
            for n in steps:
                attributions, delta = lig.attribute(ids, baselines=baseline, n_steps=n, return_convergence_delta=True)
                result = (attributions.sum(dim=-1)[0].tolist(), delta.item(), n)
                if abs(result[1]) < tol:
                    break
            return result
        ''')),
]


# ---------------------------------------------------------------------------
# Exercise 4: top_k
# ---------------------------------------------------------------------------

_TOP_K_WRONG = [
    ("bottom_k", _src('''
        def top_k(scores, k):
            order = sorted(range(len(scores)), key=lambda i: scores[i])
            return order[:k]
        '''), "Sorts ascending: the k lowest scores."),
    ("by_magnitude", _src('''
        def top_k(scores, k):
            order = sorted(range(len(scores)), key=lambda i: (-abs(scores[i]), i))
            return order[:k]
        '''), "Ranks by the size of the score, so a strongly negative word ranks high."),
    ("reversed_argsort", _src('''
        def top_k(scores, k):
            return list(np.argsort(scores)[::-1][:k])
        '''), "Reverses an ascending argsort: tied scores come out later position first."),
    ("unstable_argsort", _src('''
        def top_k(scores, k):
            return np.argsort(-np.asarray(scores, dtype=float))[:k].tolist()
        '''), "np.argsort's default sort is not stable: tied scores may come out in any order."),
    ("argsort_of_negated_list", _src('''
        def top_k(scores, k):
            order = np.argsort([-s for s in scores])  # highest first
            return [int(i) for i in order[:k]]
        '''), "np.argsort of the negated scores, default sort: past 16 scores, ties may leave their order."),
    ("values_not_positions", _src('''
        def top_k(scores, k):
            return sorted(scores, reverse=True)[:k]
        '''), "Returns the k highest scores themselves, not their positions."),
    ("index_of_value", _src('''
        def top_k(scores, k):
            best = sorted(scores, reverse=True)[:k]
            return [list(scores).index(v) for v in best]
        '''), "Looks each top value up with list.index, so tied scores give the same position twice."),
    ("argmax_loop_mutates", _src('''
        def top_k(scores, k):
            s = scores
            picked = []
            for _ in range(min(k, len(s))):
                i = int(np.argmax(s))
                picked.append(i)
                s[i] = -np.inf
            return picked
        '''), "Marks picked scores with -inf in the caller's own list/array (no copy), overwriting the scores."),
    ("k_as_percent", _src('''
        def top_k(scores, k):
            n = math.ceil(len(scores) * k / 100)  # the top k%
            order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
            return order[:n]
        '''), "Takes k as a percentage (the faithfulness section's top k%), not a number of positions."),
    ("argpartition_k_equals_n", _src('''
        def top_k(scores, k):
            s = np.asarray(scores, dtype=float)
            k = min(k, len(s))
            part = np.argpartition(-s, k)[:k]
            return sorted(part.tolist(), key=lambda i: (-s[i], i))
        '''), "np.argpartition(-s, k) needs k < n, so k equal to (or capped at) the number of scores crashes."),
]

_TOP_K_CORRECT = [
    ("stable_argsort", _src('''
        def top_k(scores, k):
            s = np.asarray(scores, dtype=float)
            return np.argsort(-s, kind="stable")[:k].tolist()
        ''')),
    ("heapq_nlargest", _src('''
        import heapq


        def top_k(scores, k):
            return heapq.nlargest(k, range(len(scores)), key=lambda i: scores[i])
        ''')),
    ("sorted_reverse_is_stable", _src('''
        def top_k(scores, k):
            return sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:k]
        ''')),
    ("lexsort_numpy_result", _src('''
        def top_k(scores, k):
            s = np.asarray(scores, dtype=float)
            order = np.lexsort((np.arange(len(s)), -s))  # last key first: score, then position
            return order[:k]
        ''')),
    ("selection_loop", _src('''
        def top_k(scores, k):
            remaining = list(range(len(scores)))
            picked = []
            while remaining and len(picked) < k:
                best = remaining[0]
                for i in remaining[1:]:
                    if scores[i] > scores[best]:
                        best = i
                picked.append(best)
                remaining.remove(best)
            return picked
        ''')),
]


# ---------------------------------------------------------------------------
# Exercise 5: comprehensiveness
# ---------------------------------------------------------------------------

_COMPREHENSIVENESS_WRONG = [
    ("floor_at_least_one", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, int(n * k / 100)))
            top = set(ranking[:m])
            rest = [w for i, w in enumerate(words) if i not in top]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "Rounds n*k/100 down (int) instead of up, so e.g. 2.5 words become 2."),
    ("floor_no_minimum", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:n * k // 100])
            rest = [w for i, w in enumerate(words) if i not in top]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "n * k // 100 rounds down and may be 0: for small k nothing is removed."),
    ("rounds_to_nearest", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, round(n * k / 100))
            top = set(ranking[:m])
            rest = [w for i, w in enumerate(words) if i not in top]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "round() instead of ceil: 0.4 words become 0 (nothing removed), 2.5 become 2."),
    ("k_as_count", _src('''
        def comprehensiveness(score, words, ranking, k):
            top = set(ranking[:k])
            rest = [w for i, w in enumerate(words) if i not in top]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "Removes k words instead of the top k percent."),
    ("removes_by_value", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            top_words = [words[i] for i in ranking[:m]]
            rest = [w for w in words if w not in top_words]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "Removes the top words by value, so every copy of a top word goes too."),
    ("del_shifts_positions", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            rest = list(words)
            for i in ranking[:m]:
                del rest[i]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "Deletes the top positions one by one from the list, so each deletion shifts the later positions."),
    ("sign_flipped", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            rest = [w for i, w in enumerate(words) if i not in top]
            full, without = score([" ".join(words), " ".join(rest)])
            return without - full
        '''), "Returns P(without the top words) - P(full): the sign is flipped."),
    ("string_not_list", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            rest = [w for i, w in enumerate(words) if i not in top]
            full = score(" ".join(words))[0]
            without = score(" ".join(rest))[0]
            return full - without
        '''), "Passes one string to score, which takes a list of texts."),
    ("ranking_read_as_scores", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            top = set(sorted(range(n), key=lambda i: -ranking[i])[:m])
            rest = [w for i, w in enumerate(words) if i not in top]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        '''), "Reads the ranking as one score per word and sorts by it, instead of taking its first positions."),
    ("empty_text_is_zero", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            rest = [w for i, w in enumerate(words) if i not in top]
            full = score([" ".join(words)])[0]
            without = score([" ".join(rest)])[0] if rest else 0.0  # nothing left: not toxic
            return full - without
        '''), "Takes P(toxic) of the empty text to be 0 instead of asking the model (k = 100, or one word)."),
]

_COMPREHENSIVENESS_CORRECT = [
    ("numpy_delete", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            rest = np.delete(np.array(list(words), dtype=object), ranking[:m])
            p = score([" ".join(words), " ".join(rest)])
            return float(p[0] - p[1])
        ''')),
    ("separate_calls", _src('''
        def comprehensiveness(score, words, ranking, k):
            words = list(words)
            n = len(words)
            how_many = math.ceil(n * k / 100)
            how_many = max(1, min(n, how_many))
            removed = ranking[:how_many]
            kept = [words[i] for i in range(n) if i not in removed]
            p_full = score([" ".join(words)])[0]
            p_without = score([" ".join(kept)])[0]
            return p_full - p_without
        ''')),
    ("integer_ceil", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = int(-(-n * k // 100))  # ceil without floats
            m = min(max(m, 1), n)
            drop = set(int(i) for i in ranking[:m])
            text = " ".join(words)
            rest = " ".join(words[i] for i in range(n) if i not in drop)
            full, without = score([text, rest])
            return float(full) - float(without)
        ''')),
    ("boolean_mask", _src('''
        def comprehensiveness(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            keep = np.ones(n, dtype=bool)
            keep[np.asarray(ranking[:m], dtype=int)] = False
            rest = [w for w, kept in zip(words, keep) if kept]
            full, without = score([" ".join(words), " ".join(rest)])
            return full - without
        ''')),
]


# ---------------------------------------------------------------------------
# Exercise 6: sufficiency
# ---------------------------------------------------------------------------

_SUFFICIENCY_WRONG = [
    ("rank_order", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            top = ranking[:min(n, max(1, math.ceil(n * k / 100)))]
            kept = [words[i] for i in top]
            full, only = score([" ".join(words), " ".join(kept)])
            return full - only
        '''), "Joins the top words in rank order, not in the order they have in the text."),
    ("keeps_the_rest", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            kept = [w for i, w in enumerate(words) if i not in top]
            full, only = score([" ".join(words), " ".join(kept)])
            return full - only
        '''), "Copied from comprehensiveness: keeps the other words instead of only the top ones."),
    ("sign_flipped", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            kept = [w for i, w in enumerate(words) if i in top]
            full, only = score([" ".join(words), " ".join(kept)])
            return only - full
        '''), "Returns P(only the top words) - P(full): the sign is flipped."),
    ("k_as_count", _src('''
        def sufficiency(score, words, ranking, k):
            top = set(ranking[:k])
            kept = [w for i, w in enumerate(words) if i in top]
            full, only = score([" ".join(words), " ".join(kept)])
            return full - only
        '''), "Keeps k words instead of the top k percent."),
    ("floor_no_minimum", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:int(n * k / 100)])
            kept = [w for i, w in enumerate(words) if i in top]
            full, only = score([" ".join(words), " ".join(kept)])
            return full - only
        '''), "int(n * k / 100) rounds down and may be 0: for small k it scores the empty text."),
    ("keeps_every_copy", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            top_words = {words[i] for i in ranking[:m]}
            kept = [w for w in words if w in top_words]
            full, only = score([" ".join(words), " ".join(kept)])
            return full - only
        '''), "Keeps the top words by value, so other copies of a top word are kept too."),
    ("returns_probability", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            kept = [w for i, w in enumerate(words) if i in top]
            return score([" ".join(kept)])[0]
        '''), "Returns P(toxic | only the top words), not its difference from P(full)."),
    ("string_not_list", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            top = set(ranking[:min(n, max(1, math.ceil(n * k / 100)))])
            kept = [w for i, w in enumerate(words) if i in top]
            return score(" ".join(words))[0] - score(" ".join(kept))[0]
        '''), "Passes one string to score, which takes a list of texts."),
]

_SUFFICIENCY_CORRECT = [
    ("sorted_positions", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            positions = sorted(int(i) for i in ranking[:m])
            only = " ".join(words[i] for i in positions)
            p = score([" ".join(words), only])
            return p[0] - p[1]
        ''')),
    ("numpy_mask", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, math.ceil(n * k / 100)))
            mask = np.zeros(n, dtype=bool)
            mask[np.asarray(ranking[:m], dtype=int)] = True
            kept = np.array(list(words), dtype=object)[mask]
            full, only = score([" ".join(words), " ".join(kept)])
            return float(full - only)
        ''')),
    ("separate_calls", _src('''
        def sufficiency(score, words, ranking, k):
            words = list(words)
            count = math.ceil(len(words) * k / 100)
            count = min(len(words), max(1, count))
            chosen = ranking[:count]
            kept = [word for i, word in enumerate(words) if i in chosen]
            return score([" ".join(words)])[0] - score([" ".join(kept)])[0]
        ''')),
    ("integer_ceil_list_membership", _src('''
        def sufficiency(score, words, ranking, k):
            n = len(words)
            m = min(n, max(1, int(-(-n * k // 100))))
            keep = list(ranking[:m])
            text_only = " ".join(w for i, w in enumerate(words) if i in keep)
            full, only = score([" ".join(words), text_only])
            return float(full) - float(only)
        ''')),
]


# ---------------------------------------------------------------------------
# Exercise 7: p_toxic_given_term
# ---------------------------------------------------------------------------

_TERM_WRONG = [
    ("substring", _src('''
        def p_toxic_given_term(texts, labels, term):
            hits = [int(label) for text, label in zip(texts, labels) if term.lower() in text.lower()]
            return sum(hits) / len(hits) if hits else float("nan")
        '''), "Substring match: 'gay' is found in 'gaylord'."),
    ("case_sensitive", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile(r"\b" + re.escape(term.lower()) + r"\b")
            hits = [int(label) for text, label in zip(texts, labels) if pattern.search(text)]
            return sum(hits) / len(hits) if hits else float("nan")
        '''), "Lowercases the term but not the text: 'Gay' and 'GAY' are missed."),
    ("split_on_spaces", _src('''
        def p_toxic_given_term(texts, labels, term):
            term = term.lower()
            hits = [int(label) for text, label in zip(texts, labels) if term in text.lower().split()]
            return sum(hits) / len(hits) if hits else float("nan")
        '''), "Matches whole space-separated tokens: misses 'gay!', 'gay-friendly' and every phrase."),
    ("word_set_misses_phrases", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            term = term.lower()
            hits = []
            for text, label in zip(texts, labels):
                if term in set(re.findall(r"\w+", text.lower())):
                    hits.append(int(label))
            return sum(hits) / len(hits) if hits else float("nan")
        '''), "Looks the term up among the text's words: right for one word, but a phrase is never found."),
    ("padded_spaces", _src('''
        def p_toxic_given_term(texts, labels, term):
            needle = " " + term.lower() + " "
            hits = [int(label) for text, label in zip(texts, labels) if needle in " " + text.lower() + " "]
            return sum(hits) / len(hits) if hits else float("nan")
        '''), "Pads with spaces to find whole words: misses 'gay!' and 'gay-friendly'."),
    ("term_given_toxic", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
            toxic = [text for text, label in zip(texts, labels) if int(label) == 1]
            if not toxic:
                return float("nan")
            return sum(1 for text in toxic if pattern.search(text)) / len(toxic)
        '''), "Computes P(term | toxic), the share of toxic texts that mention the term, not P(toxic | term)."),
    ("zero_not_nan", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
            hits = [int(label) for text, label in zip(texts, labels) if pattern.search(text)]
            return sum(hits) / len(hits) if hits else 0.0
        '''), "Returns 0 when no text contains the term, instead of NaN."),
    ("counts_mentions", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
            toxic = total = 0
            for text, label in zip(texts, labels):
                n = len(pattern.findall(text))
                total += n
                toxic += n * int(label)
            return toxic / total if total else float("nan")
        '''), "Counts every mention, so a text that repeats the term counts several times."),
    ("non_raw_boundary", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile("\b" + re.escape(term) + "\b", re.IGNORECASE)
            hits = [int(label) for text, label in zip(texts, labels) if pattern.search(text)]
            return sum(hits) / len(hits) if hits else float("nan")
        '''), "Writes \"\\b\" in a normal string: Python makes it a backspace character, so nothing ever matches."),
    ("divides_by_all_texts", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            texts, labels = list(texts), list(labels)
            pattern = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
            hits = [int(label) for text, label in zip(texts, labels) if pattern.search(text)]
            return sum(hits) / len(texts) if hits else float("nan")
        '''), "Divides the toxic mentions by all texts: P(toxic and term), not P(toxic | term)."),
    ("boolean_mask_on_list", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
            mask = np.array([bool(pattern.search(text)) for text in texts])
            if not mask.any():
                return float("nan")
            return float(np.mean(labels[mask]))
        '''), "Indexes labels with a numpy mask without converting it: a plain list (or dataset column) fails."),
]

_TERM_CORRECT = [
    ("lookarounds", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            pattern = re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", flags=re.I)
            n_texts = n_toxic = 0
            for text, label in zip(texts, labels):
                if pattern.search(text) is not None:
                    n_texts += 1
                    n_toxic += int(label)
            if n_texts == 0:
                return float("nan")
            return n_toxic / n_texts
        ''')),
    ("pandas_str_contains", _src(r'''
        import pandas as pd


        def p_toxic_given_term(texts, labels, term):
            mentions = pd.Series(list(texts), dtype=object).str.contains(
                r"\b" + re.escape(term) + r"\b", case=False, regex=True)
            y = pd.Series([int(v) for v in labels])[mentions.to_numpy(dtype=bool)]
            return float(y.mean()) if len(y) else float("nan")
        ''')),
    ("lowercase_both", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            needle = re.escape(term.lower())
            found = [int(y) for t, y in zip(texts, labels) if re.search(r"\b" + needle + r"\b", t.lower())]
            if not found:
                return math.nan
            return sum(found) / len(found)
        ''')),
    ("numpy_mean", _src(r'''
        def p_toxic_given_term(texts, labels, term):
            rx = re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE)
            y = np.asarray(list(labels), dtype=float)
            mask = np.array([rx.search(t) is not None for t in texts], dtype=bool)
            return float(y[mask].mean()) if mask.any() else float("nan")
        ''')),
]


WRONG = {
    "occlusion": _OCCLUSION_WRONG,
    "merge_words": _MERGE_WRONG,
    "integrated_gradients": _IG_WRONG,
    "top_k": _TOP_K_WRONG,
    "comprehensiveness": _COMPREHENSIVENESS_WRONG,
    "sufficiency": _SUFFICIENCY_WRONG,
    "term_toxicity": _TERM_WRONG,
}

CORRECT = {
    "occlusion": _OCCLUSION_CORRECT,
    "merge_words": _MERGE_CORRECT,
    "integrated_gradients": _IG_CORRECT,
    "top_k": _TOP_K_CORRECT,
    "comprehensiveness": _COMPREHENSIVENESS_CORRECT,
    "sufficiency": _SUFFICIENCY_CORRECT,
    "term_toxicity": _TERM_CORRECT,
}


SOLUTION_CELL = {
    "occlusion": "occlusion_scores", "merge_words": "merge_pieces", "integrated_gradients": "ig_scores", "top_k": "top_k",
    "comprehensiveness": "comprehensiveness", "sufficiency": "sufficiency", "term_toxicity": "p_toxic_given_term",
}

# points per autograded exercise, as in the source notebook
POINTS = {"occlusion": 2, "merge_words": 1, "integrated_gradients": 2, "top_k": 1, "comprehensiveness": 2, "sufficiency": 1, "term_toxicity": 2}

# two per exercise through real autograde: one a visible check catches, one a subtler one
THROUGH_AUTOGRADE = [("occlusion", "removes_every_copy"), ("occlusion", "absolute_change"),
                     ("merge_words", "averages_pieces"), ("merge_words", "dict_by_word"),
                     ("integrated_gradients", "baseline_replaces_cls_and_sep"),
                     ("integrated_gradients", "none_when_no_count_is_within_tol"),
                     ("top_k", "reversed_argsort"), ("top_k", "unstable_argsort"),
                     ("comprehensiveness", "del_shifts_positions"), ("comprehensiveness", "empty_text_is_zero"),
                     ("sufficiency", "rank_order"), ("sufficiency", "keeps_every_copy"),
                     ("term_toxicity", "substring"), ("term_toxicity", "word_set_misses_phrases")]
# numpy and pandas answers through the real wire
CORRECT_THROUGH_AUTOGRADE = [("occlusion", "numpy_array_result"), ("merge_words", "bincount_word_ids"),
                             ("integrated_gradients", "index_loop_tensor_answers"),
                             ("top_k", "lexsort_numpy_result"), ("comprehensiveness", "numpy_delete"),
                             ("sufficiency", "numpy_mask"), ("term_toxicity", "pandas_str_contains")]


def grade_globals() -> dict:
    """What the notebook's setup cells define, in grade mode's shape (tiny random model, no training)."""
    import math
    import re

    import numpy as np

    from toxlab.explain import scorer
    from toxlab.labs import load_lab_model
    from toxlab.labs.explain_lab.modes import lab_config

    model, tokenizer, _threshold = load_lab_model(lab_config("grade"))  # as the notebook's setup cell loads it
    return {"np": np, "math": math, "re": re, "score": scorer(model, tokenizer), "model": model,
            "tokenizer": tokenizer}


# library names that a fixture cell may import although another exercise's cell imports them too
SHARED_IMPORTS = set()
