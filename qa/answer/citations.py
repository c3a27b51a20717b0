"""Parse a draft answer into claims with their ``[n]`` markers, and spot refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import sentence_spans

# [2]  [2, 3]  [2][3]  [Passage 2]  [source 2]  (also tolerates a missing closing bracket at the end)
MARKER = re.compile(r"\[\s*(?:(?:passage|source|evidence|doc(?:ument)?)\s*)?(\d{1,3}(?:\s*[,;&]\s*(?:and\s*)?\d{1,3})*)\s*\]",
                    re.IGNORECASE)
MARKER_RUN = re.compile(rf"(?:\s*{MARKER.pattern})+", re.IGNORECASE)
REFUSAL = re.compile(
    r"NOT[ _]FOUND|\bno (?:information|mention|details?|data)\b|\bnot (?:mentioned|specified|stated|provided|"
    r"given|available|included|known|clear|say)\b|(?:does|do|did) not (?:say|state|mention|specify|provide|contain|"
    r"include|give|indicate)|cannot (?:be )?(?:determin|answer|found|find|tell)|(?:don't|do not) know|unable to",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    """One stretch of answer text and the passage numbers it cites."""

    text: str
    cited: tuple[int, ...]
    tail: str = ""  # punctuation after the markers ("," or ".")


def parse_claims(answer: str) -> list[Claim]:
    """Split ``answer`` at each run of citation markers; text after the last run is uncited."""
    claims: list[Claim] = []
    pos = 0
    for run in MARKER_RUN.finditer(answer):
        nums = tuple(int(n) for m in MARKER.finditer(run.group(0)) for n in re.findall(r"\d+", m.group(1)))
        end = run.end()
        tail_m = re.match(r"[.,;:!?]*", answer[end:])
        tail = tail_m.group(0) if tail_m else ""
        text = answer[pos : run.start()].strip()
        if text:
            # "A. B. [3]": the marker belongs to the last sentence; earlier ones are uncited claims
            spans = sentence_spans(text)
            claims.extend(Claim(text[s:e], ()) for s, e in spans[:-1])
            last = text[spans[-1][0] : spans[-1][1]] if spans else text
            claims.append(Claim(last, tuple(dict.fromkeys(nums)), tail))
        elif claims:  # markers right after markers: merge into the previous claim
            prev = claims.pop()
            claims.append(Claim(prev.text, tuple(dict.fromkeys(prev.cited + nums)), tail or prev.tail))
        pos = end + len(tail)
    rest = answer[pos:].strip()
    if rest:
        claims.extend(Claim(rest[s:e], ()) for s, e in sentence_spans(rest))
    return claims


def is_refusal(text: str) -> bool:
    """The model says the passages do not answer."""
    return bool(REFUSAL.search(text))


def strip_markers(text: str) -> str:
    """Text with any citation markers removed."""
    return re.sub(r"\s+", " ", MARKER.sub("", text)).strip()


_END = re.compile(r"([.?!]?)([\"\u201d\u2019']?)$")


def with_marks(sentence: str, marks: str, stop: str = "") -> str:
    """``sentence`` with its citation ``marks`` before the final stop and after a closing quotation mark.

    ``said." [2].`` would read as two sentences, the second only a marker: it becomes ``said" [2].``
    ``stop`` replaces the sentence's own final stop (default: its own, or ".").
    """
    end = _END.search(sentence)
    assert end is not None  # the pattern matches the empty string
    return f"{sentence[: end.start()]}{end.group(2)} {marks}{stop or end.group(1) or '.'}"
