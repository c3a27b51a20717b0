"""Sentence splitting with character offsets, and the word tokens used for lexical matching."""

from __future__ import annotations

import re
import unicodedata

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and
# an upper-case letter, digit or opening quote. Lines are paragraphs in these corpora.
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Lt|Col|Capt|Sgt|Jr|Sr|No|vs|etc|U\.S|U\.N|e\.g|i\.e)\.$")
_LIST_NUMBER = re.compile(r"[#\s]*\d{1,3}\.")
_WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F\u0600-\u06FF]+(?:['’][a-z]+)?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves s t don said says
    say tell told according did does whose many much one ones also would may might shall
    """.split()
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans ``(s, e)`` of the sentences in ``text[start:end]``, trimmed of surrounding space."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        ls, le = start + line.start(), start + line.end()
        cut = ls
        for m in _SENT_END.finditer(text, ls, le):
            if _ABBREV.search(text, max(ls, m.start() - 6), m.start()):
                continue
            if _LIST_NUMBER.fullmatch(text, cut, m.start()):
                continue  # "4. TOLLEN STREET BRIDGE", "## 7. Warranty": a numbered heading or list item
            spans.append((cut, m.start()))
            cut = m.end()
        spans.append((cut, le))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


# a section heading: a Markdown heading (HTML headings are loaded as these), or a short line in capitals
# ("4. BRIDGE RENOVATION - PROGRESS REPORT", "ABSENT:") as plain-text minutes and reports have them
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(\S[^\n]*)$", re.MULTILINE)
_CAPS_LINE = re.compile(r"^(?=[^\n]*[A-Z]{3})([^a-z\n]{2,79}[^a-z\n.])$", re.MULTILINE)


def headings(text: str) -> list[tuple[int, str]]:
    """(offset, text) of the section headings in ``text``, in order: Markdown ``#`` lines and short
    all-capital lines."""
    found = [(m.start(), m.group(1).strip(" #*")) for m in _MD_HEADING.finditer(text)]
    found += [(m.start(), m.group(1).strip()) for m in _CAPS_LINE.finditer(text) if len(m.group(1).split()) <= 12]
    return sorted(found)


_CLOSERS = re.compile(r"[\"\u201d\u2019]*")


def _open_quotes(text: str) -> int:
    """How many quotations ``text`` opens and leaves open (straight or curly double quotes)."""
    return text.count('"') % 2 + max(0, text.count("\u201c") - text.count("\u201d"))


def quoted_sentences(text: str, limit: int = 2) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, a sentence that opens a quotation running on to where it closes.

    News text splits a quotation over sentences and names its speaker after the last one
    (\u201c... . ...,\u201d says an edit in Dawn.): quoted alone, the first sentence loses who said it.
    A quotation is followed for at most ``limit`` more sentences of the same paragraph.
    """
    spans = sentence_spans(text)

    def closed(a: int, b: int) -> bool:  # a closing quote after the full stop lies between sentences
        return not _open_quotes(text[a : b + len(_CLOSERS.match(text, b).group(0))])

    out = []
    for i, (a, b) in enumerate(spans):
        end = b
        if not _open_quotes(text[text.rfind("\n", 0, a) + 1 : a]) and not closed(a, b):
            for s, e in spans[i + 1 : i + 1 + limit]:
                if "\n" in text[a:s]:
                    break
                if closed(a, e):
                    end = e
                    break
        out.append((a, end))
    return out


def fold(text: str) -> str:
    """Lower-case, strip accents, and unify quotes and dashes for matching."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")


def words(text: str) -> list[str]:
    """All word tokens, folded."""
    return [w.replace("'s", "").replace("’s", "") for w in _WORD.findall(fold(text))]


def content_words(text: str) -> list[str]:
    """Word tokens minus stop words."""
    return [w for w in words(text) if w not in STOPWORDS]


# irregular past forms, so that "began" matches "begin" and "held" "holds" (not ambiguous ones: left, saw, rose)
_IRREGULAR = {
    past: base
    for base, forms in (
        ("arise", "arose arisen"), ("become", "became"), ("begin", "began begun"), ("break", "broke broken"),
        ("bring", "brought"), ("build", "built"), ("buy", "bought"), ("catch", "caught"), ("choose", "chose chosen"),
        ("come", "came"), ("deal", "dealt"), ("draw", "drew drawn"), ("drive", "drove driven"), ("fall", "fell fallen"),
        ("feed", "fed"), ("fight", "fought"), ("find", "found"), ("flee", "fled"), ("fly", "flew flown"),
        ("forget", "forgot forgotten"), ("freeze", "froze frozen"), ("give", "gave given"), ("go", "went gone"),
        ("grow", "grew grown"), ("hear", "heard"), ("hide", "hid hidden"), ("hold", "held"), ("keep", "kept"),
        ("know", "knew known"), ("lead", "led"), ("lose", "lost"), ("make", "made"), ("mean", "meant"),
        ("meet", "met"), ("pay", "paid"), ("ride", "rode ridden"), ("run", "ran"), ("see", "seen"), ("seek", "sought"),
        ("sell", "sold"), ("send", "sent"), ("shake", "shook shaken"), ("shoot", "shot"), ("show", "shown"),
        ("speak", "spoke spoken"), ("spend", "spent"), ("stand", "stood"), ("steal", "stole stolen"),
        ("strike", "struck"), ("take", "took taken"), ("teach", "taught"), ("think", "thought"), ("throw", "threw thrown"),
        ("understand", "understood"), ("undertake", "undertook undertaken"), ("wake", "woke woken"), ("win", "won"),
        ("withdraw", "withdrew withdrawn"), ("write", "wrote written"),
    )
    for past in forms.split()
}
IRREGULAR_PAST = frozenset(_IRREGULAR)  # "began", "held", "struck": verbs in the past without -ed


def stem(word: str) -> str:
    """A light suffix stripper so that 'strikes'/'strike', 'killed'/'kill', 'began'/'begin', '3rd'/'3' match."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word[:1].isdigit():
        return re.sub(r"^(\d+)(?:st|nd|rd|th)$", r"\1", word)
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + (3 if suffix == "ly" else 2) and word.endswith(suffix):  # not early → ear
            return word[: -len(suffix)]
    return word


TOKENIZER_VERSION = "1"


def terms(text: str) -> list[str]:
    """Stemmed content words: the unit of BM25 and lexical support checks."""
    return [stem(w) for w in content_words(text)]


NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
    "eighty": "80", "ninety": "90", "hundred": "100",
}
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_COMPOUND = re.compile(rf"\b({_TENS})[-\s](one|two|three|four|five|six|seven|eight|nine)\b")


def spelled_numbers(text: str) -> set[str]:
    """The figures ``text`` spells out, as digit strings: "nine" → "9", "twenty-three" → "23" (not 20 and 3)."""
    folded = fold(text)
    out = {str(int(NUMBER_WORDS[t]) + int(NUMBER_WORDS[o])) for t, o in _COMPOUND.findall(folded)}
    rest = _COMPOUND.sub(" ", folded)
    return out | {NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", rest) if w in NUMBER_WORDS}


def vocabulary(text: str) -> set[str]:
    """Terms of ``text`` for matching: stemmed words, number words as digits, raw folded words."""
    raw = {fold(w) for w in re.findall(r"[A-Za-z]+", text)}
    digits = {t.replace(",", "") for t in re.findall(r"\d[\d,]*", text)}
    return set(terms(text)) | raw | digits | spelled_numbers(text)  # "twenty-three" is 23, not also 20 and 3


def has_term(term: str, vocab: set[str]) -> bool:
    """``term`` matches a word of ``vocab``: equal, one a prefix of the other (5+ letters), part of a
    compound ("name" in "codenamed"), or a one-letter spelling variant of a long name
    (Balochistan/Baluchistan)."""
    if term in vocab:
        return True
    if len(term) < 4:
        return False
    for word in vocab:
        if len(word) >= 5 and len(term) >= 5 and (word.startswith(term) or term.startswith(word)):
            return True
        if len(word) > len(term) + 2 and term in word:
            return True
        if len(term) >= 7 and word[:1] == term[:1] and _one_edit(term, word):
            return True
    return False


def _one_edit(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` differ by at most one substitution, insertion or deletion."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Edit distance of ``a`` and ``b`` counting a swap of neighbours as one edit (optimal string
    alignment); ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        if min(d[i]) > limit:
            return limit + 1
    return d[-1][-1]


# nouns for people by their role: "the spokesperson", "which officials", "Foreign Minister ..."
ROLE_WORDS = (r"(?i:officials?|journalists?|reporters?|correspondents?|authors?|writers?|editors?|spokes(?:person|man|woman)"
              r"|ministers?|leaders?|commanders?|chiefs?|ambassadors?|envoys?|diplomats?|presidents?|governors?"
              r"|commissioners?|groups?|organi[sz]ations?|politicians?|person)")


# words that carry no fact of their own: a fluent answer adds them, a question asks "according to the articles"
FILLER = frozenset(
    stem(w) for w in """according reported report stated state states statement article articles source
    sources passage passages evidence mentioned mention known called named also however while whereas
    including include includes following respectively around approximately least total""".split()
)
