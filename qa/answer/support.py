"""Does a passage support a claim? A lexical check with strict names and numbers.

A claim is supported by a span of one or two adjacent sentences when that span holds every number
and proper name of the claim and most of its other content words (question words included: an
answer that only borrows the question's words is not thereby supported), and, when the claim says
a name did something ("Iran struck ..."), names it where an actor stands, not only as a place
("... in Panjgur area of Iran"). This is what stops a small model from slipping an invented name,
figure or predicate, or a swapped role, past a real citation.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

from qa.text import (
    FILLER,
    IRREGULAR_PAST,
    NUMBER_WORDS,
    ROLE_WORDS,
    STOPWORDS,
    content_words,
    fold,
    has_term,
    sentence_spans,
    spelled_numbers,
    stem,
    terms,
    vocabulary,
)

MIN_COVERAGE = 0.67


def normal_terms(text: str) -> list[str]:
    """Stemmed content words with number words as digits."""
    return [NUMBER_WORDS.get(t, t) for t in terms(text)]


def strict_tokens(claim: str) -> set[str]:
    """Numbers and capitalised non-stop words of a claim: these must appear in the quote."""
    out = {t.replace(",", "") for t in re.findall(r"\d[\d,]*", claim)}
    for m in re.finditer(r"\b([A-Z][A-Za-z\u00C0-\u024F]+)", claim):
        word = fold(m.group(1))
        if word not in STOPWORDS and word not in NUMBER_WORDS and stem(word) not in FILLER:
            out.add(stem(word))
    out |= spelled_numbers(claim)
    return {t for t in out if t}


def coverage(
    claim: str, text: str, unseen: dict[str, set[str]] | None = None, question: str = "", ignore: frozenset[str] = frozenset(),
    title: str = "",
) -> tuple[float, list[str]]:
    """Share of the claim's content terms found in ``text``, and the claim's names/numbers missing.

    ``unseen`` maps the question's words that occur nowhere in the corpus ("won" in "who won the
    election?") to the corpus words that mean nearly the same ("died" → {"kill", "dead"}). A claim
    that repeats such a word is backed only if the quote has the word or one of those synonyms:
    otherwise it asserts what the documents never mention. Words in ``ignore`` (corpus-unseen words
    the model vouched for, see :mod:`qa.answer.judge`) are left out of the count.

    A claim restating the question's subject ("The warranty on the KT-470 is two years") is backed by
    a sentence that does not repeat it ("... guarantees this appliance ... for two years") in a
    document titled with it: words the claim shares with the question count as held when ``title``
    (the quote's document title and section heading, :attr:`qa.models.Passage.context`) has them.
    """
    vocab = vocabulary(text)
    unseen = unseen or {}
    wanted = [t for t in dict.fromkeys(normal_terms(claim)) if t not in FILLER and unseen_key(t, ignore) is None]
    asked = _question_words(question)
    missing = [t for t in strict_tokens(claim) - asked if not has_term(t, vocab)]
    missing += [u for u in (unseen_key(t, unseen) for t in wanted) if u and not held(u, vocab, unseen)]
    if not wanted:
        return 0.0, missing
    context = _title_words(title) if question else frozenset()
    have = sum(1 for t in wanted if held(t, vocab, unseen) or (t in asked and has_term(t, context)))
    return have / len(wanted), missing


@lru_cache(maxsize=64)
def _question_words(question: str) -> frozenset[str]:
    """The question's own names and words: a claim repeating them ("Error code E2" for "what does error
    code E2 mean") needs no quote for them. Cached: :func:`best_span` asks once per candidate span."""
    return frozenset(strict_tokens(question) | set(normal_terms(question))) if question else frozenset()


@lru_cache(maxsize=64)
def _title_words(title: str) -> frozenset[str]:
    """The vocabulary of a document title (cached, as :func:`_question_words`)."""
    return frozenset(vocabulary(title)) if title else frozenset()


def unseen_key(term: str, unseen: Collection[str]) -> str | None:
    """The corpus-unseen question word ``term`` repeats, if any: itself or an inflection ("used" of "use")."""
    if term in unseen:
        return term
    return next((u for u in unseen if term.startswith(u) and len(term) - len(u) <= 2), None)


def without_unseen(weights: dict[str, float], loose: Collection[str]) -> dict[str, float]:
    """The question's ``weights`` less its corpus-unseen words ``loose`` (and their inflections).

    What is left is what a sentence that lacks those words is measured on: the judge vouches for them.
    """
    return {t: w for t, w in weights.items() if unseen_key(t, loose) is None}


def held(term: str, vocab: set[str], unseen: dict[str, set[str]]) -> bool:
    """True if ``vocab`` has ``term`` or one of its synonyms in ``unseen``."""
    return has_term(term, vocab) or any(has_term(syn, vocab) for syn in unseen.get(term, ()))


def supports(claim: str, text: str, unseen: dict[str, set[str]] | None = None, question: str = "") -> bool:
    """True when ``text`` backs every name and number of ``claim`` and most of its words."""
    share, missing = coverage(claim, text, unseen, question)
    return not missing and share >= MIN_COVERAGE


def best_span(
    claim: str, text: str, unseen: dict[str, set[str]] | None = None, question: str = "", ignore: frozenset[str] = frozenset(),
    title: str = "",
) -> tuple[int, int, float] | None:
    """The shortest span of adjacent sentences of ``text`` that supports ``claim``.

    A span has at most one sentence more than the claim itself (so two for a one-sentence claim).
    ``title`` is the title (and section heading) of the document ``text`` is from (see :func:`coverage`).
    """
    spans = sentence_spans(text)
    width = max(2, len(sentence_spans(claim)) + 1)
    candidates = [(spans[i][0], spans[j][1]) for i in range(len(spans)) for j in range(i, min(len(spans), i + width))]
    best: tuple[int, int, float] | None = None
    for a, b in candidates:
        share, missing = coverage(claim, text[a:b], unseen, question, ignore, title)
        if missing or share < MIN_COVERAGE:
            continue
        if not acts_in(claim, text[a:b]) or not speaker_with_speech(claim, text[a:b], question):
            continue
        if best is None or share > best[2] + 1e-9 or (abs(share - best[2]) < 1e-9 and b - a < best[1] - best[0]):
            best = (a, b, share)
    return best


_SPEECH = re.compile(r"[\"\u201c]([^\"\u201c\u201d]{12,})[\"\u201d]")


def speaker_with_speech(claim: str, quote: str, question: str = "") -> bool:
    """False when ``claim`` puts a quotation in the mouth of names that the quote's sentence holding that
    quotation lacks: "Jaiswal said \"... a little rich ...\"" is not backed by a sentence naming Jaiswal
    followed by one where the State Department says it. Names the question gives are not required."""
    speech = _SPEECH.findall(claim)
    if not speech:  # most claims quote nobody: best_span asks this for every candidate span
        return True
    outside = strict_tokens(_SPEECH.sub(" ", claim)) - _question_words(question)
    sentences = [quote[a:b] for a, b in sentence_spans(quote)]
    if not outside or len(sentences) < 2:
        return True
    said = set(normal_terms(" ".join(speech)))
    holder = max(sentences, key=lambda s: len(said & set(normal_terms(s))))
    vocab = vocabulary(holder)
    return all(has_term(t, vocab) for t in outside)


# "Iran struck ...": a claim that opens with a name and a verb says the name did something
_AGENT = re.compile(r"^\W*(?:the\s+)?([A-Z][A-Za-z\u00C0-\u024F-]+)(?:\s+[A-Z][A-Za-z\u00C0-\u024F-]+)*\s+([a-z]+)\b")
_NOT_VERB = frozenset("need seed speed feed bed red shed hundred".split())
_PAST = IRREGULAR_PAST | frozenset("hit said told left saw beat put set says claims denies".split())
# a name right after one of these (or at the start, or after punctuation) can be who acted
_SUBJECT_AFTER = frozenset("and that while but when as by after since because the whereas both then".split())
_ROLE_WORD = re.compile(ROLE_WORDS)


def acts_in(claim: str, quote: str) -> bool:
    """False when ``claim`` says a name did something but ``quote`` never has the name where an actor stands.

    "Iran struck the Panjgur area" is not backed by "Pakistan carried out an attack in Panjgur area
    of ... Iran", although both names are there. In the quote's sentence that holds the rest of the
    claim, the name must open a clause ("..., Iran said", "by Iran") or own the claim's action
    ("Iran's strikes" for "Iran struck"). Claims that do not open with a name and a verb ("Panjgur
    was hit ...") are not checked.
    """
    def did(m: re.Match[str]) -> bool:  # "Name struck", "Name targeted"; not "Panjgur area of ..."
        return m.group(2) in _PAST or m.group(2).endswith("ed") and m.group(2) not in _NOT_VERB

    m = _AGENT.match(claim)
    lead = re.match(r"^[^,]{1,60},\s*", claim)  # "According to the articles, Iran struck ..."
    if lead and (m is None or not did(m)):
        claim = claim[lead.end() :]
        m = _AGENT.match(claim)
    if m is None or not did(m):
        return True  # not "Name <did> ...": "Panjgur area of Iran was hit"
    agent = stem(fold(m.group(1)))
    if agent in STOPWORDS or fold(m.group(1)) in NUMBER_WORDS:
        return True  # "The ...", "Two days later, ..."
    rest = set(normal_terms(claim[m.end(1) :])) - FILLER
    sentences = [quote[a:b] for a, b in sentence_spans(quote)] or [quote]
    # the sentence that says the rest of the claim
    body = max(sentences, key=lambda s: sum(1 for t in rest if has_term(t, vocabulary(s))))
    cased = re.findall(r"[A-Za-z0-9\u00C0-\u024F-]+(?:['\u2019]s)?|[^\sA-Za-z0-9\u00C0-\u024F]", body)
    tokens = [fold(t) for t in cased]
    action = {stem(fold(m.group(2)))} | set(normal_terms(claim[m.start(2) :])[:1])
    named = False
    for i, tok in enumerate(tokens):
        if not has_term(agent, {tok.removesuffix("'s")}):
            continue
        named = True
        if stem(tok) != agent and not tok.endswith("'s"):
            return True  # "state-run Iranian media said": a people's word may stand for them
        j = i - 1
        while j >= 0 and cased[j][:1].isupper():
            j -= 1  # a title or a longer name: "Spokesperson Mao Ning", "the Islamic Republic of Iran"
        before = tokens[j] if j >= 0 else ""
        if not before or not before[0].isalnum() or before in _SUBJECT_AFTER or _ROLE_WORD.fullmatch(before):
            return True  # "..., Iran said", "spokesperson Randhir Jaiswal told"
        if before == "of" and j > 0 and cased[j - 1][:1].isupper():
            return True  # "the Foreign Office of Pakistan said"
        if tok.endswith("'s") and i + 1 < len(tokens) and has_term(stem(tokens[i + 1]), action):
            return True  # "Iran's strikes"
    return not named  # the name is not in that sentence: the strict-name check decides


_SUBORDINATE = re.compile(
    r",|;|\b(?:when|while|after|before|according|during|since|because|if|although|whereas|following)\b", re.IGNORECASE
)


_WH = re.compile(r"^\W*(?:who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
# "When reefs go pale, what do the polyps expel?": the opening clause sets the scene; the question is after it
_LEAD = re.compile(
    r"^\W*(?:when|if|while|once|after|before|as|since)\b[^,?]*,\s*(?=(?:who|whom|whose|what|which|when|where|why|how)\b)",
    re.IGNORECASE,
)


def asked_part(question: str) -> str:
    """``question`` without an opening "when/if/while ...," clause that a question word follows."""
    return _LEAD.sub("", question, count=1)


def main_clause(question: str) -> str:
    """The question up to its first comma or subordinate clause ("... died when Iran hit ...").

    A question that opens with a phrase of its own ("Besides recalling its ambassador, what did
    Pakistan freeze?") has its main clause where the question word is.
    """
    question = asked_part(question)
    wh = _WH.match(question)
    if wh:  # "When was the front founded?": "when" asks here, it opens no clause
        return question[: wh.end()] + _SUBORDINATE.split(question[wh.end() :], maxsplit=1)[0]
    parts = _SUBORDINATE.split(question)
    return next((p for p in parts[1:] if _WH.match(p)), parts[0])


def unseen_terms(question: str, corpus_terms: set[str]) -> dict[str, str]:
    """Main-clause words of ``question`` that occur nowhere in the corpus, as {stem: word}.

    These are what the question is about ("won" in "who won the election?"); see :func:`coverage`.
    Words of subordinate clauses only set the scene and are not checked.
    """
    out = {}
    for word in content_words(main_clause(question)):
        term = NUMBER_WORDS.get(stem(word), stem(word))
        if len(term) >= 3 and not term.isdigit() and term not in corpus_terms and term not in FILLER:
            out[term] = word
    return out


def unseen_names(question: str, unseen: dict[str, set[str]]) -> dict[str, set[str]]:
    """The question's capitalised names among its corpus-unseen words, with their synonyms."""
    named = strict_tokens(question)
    return {t: syns for t, syns in unseen.items() if t in named}
