"""What kind of answer a question asks for, and whether a text gives it.

Only the reliable cases are checked: "how many / how much / what is the price" wants a figure (one
that counts the thing asked about), "when / what day / what year" wants a time expression, "which
province / which city" wants a place name (a capitalised name the question does not already give;
not "where": "in each other's capitals"), "why" wants a stated reason ("in response to", "after",
"because", "aimed at" ...), and "who is the <role>" / "which official" wants someone named.
A claim that answers such a question without one is not an answer, however well it is quoted; nor is
one that runs the question's way the other way round ("from Pakistan to Iran" for "from Iran to
Pakistan").
"""

from __future__ import annotations

import re

from qa.answer.support import asked_part, strict_tokens
from qa.text import NUMBER_WORDS, ROLE_WORDS, STOPWORDS, fold, spelled_numbers, stem, terms

_NUMBER_Q = re.compile(
    r"\bhow (many|much)\b|\bwhat (number|percentage|share)\b|\bdeath toll\b"
    r"|^\W*(what|which) (is|was|were) the (number|count|total|price|cost|value|population|size|age)\b"
    r"|\bhow old\b|\bwhat ages?\b",
    re.IGNORECASE,
)
_REASON_Q = re.compile(r"^\W*why\b", re.IGNORECASE)
# how a news sentence gives a reason: "in response to", "after", "because", "to prevent", "aimed at"
_REASON = re.compile(
    r"\b(because|due to|owing to|in response|response to|in retaliation|retaliat\w*|after|following|since|as a result|"
    r"aimed|in order to|so that|backdrop|prompt\w*|trigger\w*|reason|"
    r"to (?:prevent|stop|counter|protect|punish|deter|avenge|target|destroy)|"
    r"over|amid|blamed|accus\w*|for (?:carrying|harbou?ring|sheltering|attacks?))\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(r"^\s*when\b|\b(what|which) (day|weekday|date|year|month|time)\b", re.IGNORECASE)
_PLACE_Q = re.compile(
    r"\b(which|what)\s+(\w+\s+)?(province|city|country|nation|town|village|region|district|area)\b",
    re.IGNORECASE,
)
# "who is the <role>", "who was Islamabad's ambassador", "which official said": someone must be named.
# Not "who was killed" (victims are counted, not named) nor "what kind of officials".
_IDENTITY_Q = re.compile(
    r"^\W*(?i:who|whom)\s+(?i:is|was|are|were)\s+(?:(?i:the|a|an|in|behind)\b|[A-Z][\w-]*['\u2019]s\b)"
    r"|^\W*(?i:what)\s+(?i:is|was|are|were)\s+(?i:the)\s+(?i:names?)\s+(?i:of)\b"
    r"|^\W*(?i:which|what)\s+(?:(?!(?i:of|kind|type|sort)\b)[\w.'\u2019-]+\s+){0,3}?" + ROLE_WORDS + r"\b"
)
MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
TIME_WORDS = set(f"{MONTHS} {_DAYS} day days week weeks month months year years morning night evening "
                  "hours hour dawn pre-dawn yesterday today tonight earlier later ago".split())


def expected(question: str) -> str | None:
    """'number', 'time', 'place', 'reason', 'name' or None when the question's answer type is not checked."""
    question = asked_part(question)
    if _NUMBER_Q.search(question):
        return "number"
    if _REASON_Q.search(question):
        return "reason"
    if _TIME_Q.search(question):
        return "time"
    if _PLACE_Q.search(question):
        return "place"
    if _IDENTITY_Q.search(question):
        return "name"
    return None


def numbers(text: str) -> set[str]:
    """Figures in ``text`` as digit strings ("nine" -> "9")."""
    return set(re.findall(r"\d+", text)) | spelled_numbers(text)


_HOW_MANY = re.compile(r"\b(?:how many|number of)\s+((?:[A-Za-z-]+\s+){0,2}?[A-Za-z-]+)\b", re.IGNORECASE)
_FIGURE = re.compile(r"\b(\d[\d,.]*|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
SAME_THING = 0.4  # MiniLM: kids~children 0.88, policemen~officers 0.82, people~Iranians 0.44; tonnes~trucks 0.35


def counted(text: str, question: str) -> set[str]:
    """The new figures of ``text`` that can count what "how many <things>" asks for.

    A figure followed by a noun phrase counts that: "100 trucks" does not say how many tonnes, "two
    sides" not how many officers. One of its words must be the question's thing or close to it
    (MiniLM word similarity ``SAME_THING``); a figure with no noun after it ("nine were killed")
    may count anything.
    """
    new = numbers(text) - numbers(question)
    asked = _HOW_MANY.search(question)
    things = [w for w in asked.group(1).split() if fold(w) not in STOPWORDS] if asked else []
    if not new or not things:
        return new
    asked_words = re.findall(r"[A-Za-z]+", question[asked.start(1) :]) if asked else []
    out = set()
    for m in _FIGURE.finditer(text):
        figure = numbers(m.group(1)) & new
        if not figure:
            continue
        phrase = []
        for token in re.findall(r"[A-Za-z-]+|[^\sA-Za-z-]", text[m.end() : m.end() + 80])[:4]:
            if not token[0].isalpha() or fold(token) in STOPWORDS:
                break
            phrase.append(token)
        if not phrase or _same_thing(phrase, things) or _acronym_of(phrase, asked_words):
            out |= figure
    return out


def _acronym_of(phrase: list[str], words: list[str]) -> bool:
    """True if a word of ``phrase`` is an acronym of the first ``words``: "8 DHW" counts "degree heating weeks"."""
    return any(len(w) >= 2 and w.isupper() and "".join(x[0] for x in words[: len(w)]).upper() == w for w in phrase)


def _same_thing(phrase: list[str], things: list[str]) -> bool:
    """True if a word of ``phrase`` is one of ``things`` or close to one (MiniLM word vectors)."""
    from qa.components.embedding import embed_cached

    if {stem(fold(w)) for w in phrase} & {stem(fold(t)) for t in things}:
        return True
    vectors = embed_cached([w.lower() for w in phrase + things])
    return bool((vectors[: len(phrase)] @ vectors[len(phrase) :].T).max() >= SAME_THING)


def new_names(text: str, question: str) -> set[str]:
    """Capitalised names of ``text`` (stemmed) that the question does not use; not figures, not times."""
    given = strict_tokens(question) | set(terms(question))
    return {t for t in strict_tokens(text) - given if not t.isdigit() and t not in TIME_WORDS}  # number words are digits


def gives(kind: str | None, text: str, question: str) -> bool:
    """True if ``text`` holds an answer of ``kind`` that the question itself does not already hold."""
    if reverses(text, question):
        return False
    if kind is None:
        return True
    if kind == "name":
        return names_someone(text, question)
    if kind == "number":
        return bool(counted(text, question))
    if kind == "reason":
        return bool(_REASON.search(text))
    if kind == "place":
        return bool(new_names(text, question))
    words = set(re.findall(r"[a-z-]+", fold(text)))
    return bool(words & TIME_WORDS) or bool(re.search(r"\b(19|20)\d\d\b|\b\d{1,2}\b", text))


_NAME_RUN = re.compile(r"[A-Z][A-Za-z\u00C0-\u024F]*(?:[-'\u2019][A-Za-z\u00C0-\u024F]+)*(?:\s+[A-Z][A-Za-z\u00C0-\u024F]*"
                       r"(?:[-'\u2019][A-Za-z\u00C0-\u024F]+)*)*")
# a name right after these is where something happened, not who: "killed nine people in Iran's Sistan province"
_PLACE_BEFORE = frozenset("in inside into within across near at on throughout along to from".split())


def names_someone(text: str, question: str) -> bool:
    """True if ``text`` names someone the question does not: a capitalised name that is not a place or an owner."""
    return bool(named(text, question))


def named(text: str, question: str) -> set[str]:
    """The names ``text`` gives that ``question`` does not (stemmed words), leaving out places and owners.

    "Tehran summoned Islamabad's charge d'affaires over the attack in Pakistan" names nobody new for
    "who was the charge d'affaires?": Islamabad owns the role, Pakistan is where. A name ending in one
    the question gives is that person with titles ("Prime Minister Anwar-ul-Haq Kakar" for "Kakar's").
    A capitalised first word that reads as a verb or adverb ("Condemning Iran's actions, ...",
    "Meanwhile, ...") is not a name either.
    """
    own = strict_tokens(question)  # the question's own capitalised names
    given = own | set(terms(question))
    out: set[str] = set()
    for m in _NAME_RUN.finditer(text):
        before = text[: m.start()].rstrip()
        if set(strict_tokens(m.group(0).split()[-1])) & own:
            continue  # "Prime Minister Anwar-ul-Haq Kakar" is the question's Kakar with his titles, not someone new
        if fold(before.rsplit(None, 1)[-1] if before else "") in _PLACE_BEFORE:
            continue
        if re.search(r"['\u2019]s$", m.group(0)) and re.match(r"\s+[a-z]", text[m.end() :]):
            continue  # "Islamabad's ambassador": the owner of a role, not its holder
        initial = not before or before[-1] in ".!?:;\"\u201c("
        # "Meanwhile, ...": one common English word opening the sentence, before a comma
        opener = initial and " " not in m.group(0) and text[m.end() : m.end() + 1] == "," and _is_word(m.group(0))
        for k, word in enumerate(m.group(0).split()):
            w = fold(re.sub(r"['\u2019]s$", "", word))
            if len(w) < 2 or w in STOPWORDS or w in TIME_WORDS or w in NUMBER_WORDS:
                continue
            if k == 0 and initial and (opener or w.endswith(("ing", "ed", "ly"))):
                continue
            out |= set(strict_tokens(word)) - given
    return out


def _is_word(word: str) -> bool:
    """True if ``word`` is a common English word (the embedder's vocabulary), not a name."""
    from qa.components.embedding import english_words

    return fold(word) in english_words()


_FROM_TO = re.compile(r"\bfrom\s+([A-Z][\w-]*)\s+(?:in)?to\s+([A-Z][\w-]*)")


def reverses(text: str, question: str) -> bool:
    """True if ``text`` goes "from B to A" where the question asks about "from A to B"."""
    asked = {(fold(a), fold(b)) for a, b in _FROM_TO.findall(question)}
    return any((fold(b), fold(a)) in asked for a, b in _FROM_TO.findall(text))
