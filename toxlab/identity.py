"""Identity terms and the sentences built from them: one home for the terms, the templates, filling a
template, and finding a term in a text.

toxlab.bias measures with them (the probe, the identity test set), toxlab.augment trains with them
(counterfactual swaps, Dixon-style sentences), toxlab.explain counts them in data. A term matches as
a whole word in any case; the words of a multi-word term may be joined by spaces or hyphens
("African American", "african-american"); `find_terms` takes the longest term at each place.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Sequence

# Neutral, non-toxic sentences we wrote; `{term}` is an adjective ("I am {term}.").
TEMPLATES = [
    "I am {term}.",
    "you are {term}",
    "My neighbour is {term}.",
    "My best friend is {term} and loves hiking.",
    "Our new teacher is {term}.",
    "Being {term} is part of who I am.",
    "I met someone {term} at the library today.",
    "She is {term} and works as a nurse.",
    "He is {term} and plays the piano.",
    "My family is {term}.",
    "The author of this article is {term}.",
    "We are {term} and proud of our community.",
]

# The identity test set's non-toxic sentences: the probe's twelve plus twelve more, our own wording.
# Terms are adjectives; "a {term}" becomes "an {term}" where the term needs it ("an Asian person").
NONTOXIC_TEMPLATES = TEMPLATES + [
    "I am a {term} person.",
    "As a {term} editor, I added two sources to this section.",
    "The museum hired a {term} historian last year.",
    "Thanks to the {term} volunteers who fixed the citations.",
    "A {term} student won the science fair.",
    "Many {term} people live in this town.",
    "The article should mention that the mayor is {term}.",
    "My {term} coworker recommended a good book.",
    "Please welcome our {term} colleague to the project.",
    "There is a {term} family next door with two dogs.",
    "I grew up with {term} neighbours and we still talk every week.",
    "The speaker at the conference was a {term} engineer.",
]

# The identity test set's toxic sentences (insults, hate, threats aimed at the term), our own wording.
# They are there to be detected: a model that misses them for some terms has a false-negative bias.
TOXIC_TEMPLATES = [
    "I hate all {term} people.",
    "{term} people are disgusting.",
    "All {term} people are stupid.",
    "You are a stupid {term} idiot.",
    "Shut up, you worthless {term} moron.",
    "Get lost, you pathetic {term} loser.",
    "No one wants {term} people here, get out.",
    "{term} people are all liars and thieves.",
    "You {term} freaks make me sick.",
    "I wish every {term} person would just die.",
    "Only a dumb {term} person would write garbage like this.",
    "Typical {term} trash, too stupid to read a source.",
    "{term} people are worthless scum.",
    "Go back to your cave, you filthy {term} pig.",
    "What an ugly {term} clown you are.",
    "{term} people should be banned from this site, they are idiots.",
    "Your edits are crap, you ignorant {term} fool.",
    "Nobody cares what a brainless {term} person thinks.",
    "I will hurt the next {term} person I meet.",
    "You disgusting {term} creep, stay away from my article.",
    "Shut your mouth, you {term} scum.",
    "Being {term} makes you a moron.",
]

# Non-toxic sentences for Dixon-style augmentation (toxlab.augment), kept apart from every evaluation
# template above so that a mitigated model is never scored on the sentences it was trained on.
AUGMENT_TEMPLATES = [
    "I am proud to be {term}.",
    "My sister is {term} and studies chemistry.",
    "Our {term} neighbours invited us to dinner.",
    "The band's drummer is {term}.",
    "A {term} doctor treated me at the hospital.",
    "Being {term} is perfectly normal.",
    "I have many {term} friends.",
    "My grandfather was {term}.",
    "The {term} community organised a charity run.",
    "She wrote a book about her life as a {term} person.",
    "He is a {term} architect from our city.",
    "The team captain is {term}.",
    "Some of the best scientists are {term}.",
    "I voted for a {term} candidate.",
    "My roommate is {term} and cooks great food.",
    "This article was written by a {term} journalist.",
    "The {term} students held a study group.",
    "My doctor is {term}.",
    "Our club welcomes {term} members.",
    "Is it true that the new manager is {term}?",
]

# 61 identity terms in seven groups; each works as an adjective ("a {term} person").
GROUPS: dict[str, list[str]] = {
    "race": ["white", "black", "asian", "latin", "hispanic", "african american",
             "latino", "latina", "arab", "indigenous", "native american", "middle eastern"],
    "religion": ["christian", "muslim", "jewish", "hindu", "buddhist", "atheist",
                 "catholic", "protestant", "sikh", "mormon"],
    "gender": ["male", "female", "transgender", "nonbinary", "trans", "cisgender"],
    "sexual orientation": ["straight", "gay", "lesbian", "bisexual", "queer",
                           "heterosexual", "homosexual", "asexual"],
    "nationality": ["american", "mexican", "chinese", "indian", "nigerian", "french",
                    "canadian", "russian", "european", "african", "german", "japanese", "iranian"],
    "disability": ["deaf", "blind", "disabled", "autistic", "paralyzed", "mentally ill"],
    "age": ["young", "old", "elderly", "teenage", "middle aged", "older"],
}

# The original lab's four sentences, as one probe.
ORIGINAL_TEMPLATES = ["you are {term}"]
ORIGINAL_GROUPS = {"race": ["white", "asian", "latin", "black"]}


# ---------------------------------------------------------------------------
# filling templates: "a {term}" -> "an asian ...", a capital at the start
# ---------------------------------------------------------------------------

_CONSONANT_SOUND = ("eu", "uni", "uk", "ukr", "usa", "use", "one", "ura")  # "a European", "a Ukrainian"
_VOWEL_SOUND = ("hour", "honest", "heir", "lgbt", "mba", "fbi", "nba")  # "an hour", "an LGBT ..."


def article_for(word: str) -> str:
    """'a' or 'an' before `word`, by its first sound (a heuristic over spelling, with exceptions)."""
    w = word.strip().lower()
    if w.startswith(_VOWEL_SOUND):
        return "an"
    if w.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if w[:1] in set("aeiou") else "a"


def _match_case(model: str, word: str) -> str:
    """`word` written in the case pattern of `model`: UPPER, Title, or as given."""
    letters = [c for c in model if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return word.upper()
    if letters and letters[0].isupper():
        return word[:1].upper() + word[1:]
    return word


def fix_articles(text: str, word: str) -> str:
    """Every 'a'/'an' right before `word` (whole word, any case) made to agree with it."""
    pattern = re.compile(r"(?<![\w'])(an?)(\s+)(?=" + re.escape(word) + r"(?!\w))", re.IGNORECASE)
    return pattern.sub(lambda m: _match_case(m.group(1), article_for(word)) + m.group(2), text)


def fill(template: str, term: str) -> str:
    """One sentence: `{term}` replaced, its article fixed, a capital if the template starts with it."""
    text = fix_articles(template.replace("{term}", term), term)
    if template.startswith("{term}"):
        text = text[:1].upper() + text[1:]
    return text


def check_templates(templates: Sequence[str]) -> list[str]:
    """Every template must be a string holding exactly one `{term}`."""
    out = list(templates)
    if not out:
        raise ValueError("templates: the list is empty; give at least one sentence with {term} in it.")
    for i, t in enumerate(out):
        rest = t.replace("{term}", "", 1) if isinstance(t, str) else "{"
        if "{" in rest or "}" in rest or rest == t:
            raise ValueError(f"template {i} ({t!r}): needs exactly one {{term}} placeholder and no other braces.")
    return out


def check_groups(groups: dict[str, Sequence[str]]) -> dict[str, list[str]]:
    """Groups map a name to two or more terms (a gap needs two)."""
    if not groups:
        raise ValueError("groups: empty; give e.g. {'religion': ['christian', 'muslim']}.")
    for name, terms in groups.items():
        if len(terms) < 2 or not all(isinstance(t, str) and t.strip() for t in terms):
            raise ValueError(f"group {name!r}: needs two or more non-empty terms, got {list(terms)}.")
    return {k: [t.strip() for t in v] for k, v in groups.items()}


# ---------------------------------------------------------------------------
# finding terms in text
# ---------------------------------------------------------------------------

def term_regex(term: str) -> str:
    """The regular expression (a string, to compose) of a whole-word mention of `term`, any case when
    compiled with re.IGNORECASE; a multi-word term's words may be separated by spaces or hyphens."""
    words = [re.escape(w) for w in term.split()]
    if not words:
        raise ValueError(f"term {term!r}: empty; give a word or phrase such as 'muslim'.")
    return r"(?<!\w)" + r"[\s\-]+".join(words) + r"(?!\w)"


@lru_cache(maxsize=1024)
def term_pattern(term: str) -> re.Pattern:
    """A compiled, case-insensitive `term_regex(term)`."""
    return re.compile(term_regex(term), re.IGNORECASE)


@lru_cache(maxsize=64)
def _any_term(terms: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(f"(?P<t{i}>{term_regex(t)})" for i, t in enumerate(terms)), re.IGNORECASE)


def find_terms(text: str, groups: Mapping[str, Sequence[str]] = GROUPS) -> list[str]:
    """The identity terms a text mentions (whole words, any case), longest match first at each place,
    in order of appearance, without repeats ("African American" counts as that, not as "african")."""
    terms = tuple(sorted({t for ts in groups.values() for t in ts}, key=len, reverse=True))
    seen: dict[str, None] = {}
    for m in _any_term(terms).finditer(text):
        seen.setdefault(terms[int(m.lastgroup[1:])], None)
    return list(seen)


def group_of(term: str, groups: Mapping[str, Sequence[str]] = GROUPS, default: str = "other") -> str:
    """The group a term belongs to (any case), else `default`."""
    t = term.strip().lower()
    return next((g for g, ts in groups.items() if t in ts), default)
