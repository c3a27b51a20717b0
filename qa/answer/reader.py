"""The seam: what do the numbered sentences say to the question, and which of them say it?

A reader gets the question and the numbered evidence and returns a :class:`Reading`: its short
answer as claims, each citing the numbers of the sentences it comes from (none when nothing
answers), and, when it can say, its probability that nothing answers. Readers are swappable and
compared on the same sets under one :class:`~qa.answer.policy.Policy`:

- :class:`ModelReader` over the in-process llama.cpp model: its first token's probability gives P(none);
  below the policy's threshold it answers under a GBNF grammar (each sentence ends with valid sentence
  numbers), always from the same saved system-prompt state (deterministic answers);
- :class:`ModelReader` over any other chat model (OpenAI-compatible, Ollama): the same prompt, its
  reply parsed leniently, no probabilities;
- :class:`LexicalReader`: no model, the sentence covering most of the question (a baseline).
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from qa.answer.citations import without_markers
from qa.answer.evidence import coverage, render
from qa.answer.policy import Policy
from qa.answer.prompts import template_text
from qa.models import Passage
from qa.text import terms

NONE = "none"
NONES = [NONE, NONE.capitalize(), NONE.upper()]  # the ways a reply may start "none"


def p_none(probabilities: dict[str, float]) -> float:
    """The probability that the reply starts with "none", in any case."""
    return sum(probabilities.get(s, 0.0) for s in NONES)


@dataclass
class Reading:
    """What a reader made of the evidence."""

    claims: list[tuple[str, list[int]]] = field(default_factory=list)  # its sentences, each with the numbers it cites
    p_none: float | None = None  # its probability that no sentence answers (None: it cannot say)
    text: str = ""  # what it wrote


# a reader yields ("p_none", float) when it can say, then ("claim", (sentence, [n, ...])) for each sentence
# of its answer as soon as it is written; it returns the whole Reading
Event = tuple[str, object]
Stream = Generator[Event, None, Reading]
# a claim's text may hold brackets that are not markers (`pip install "fastapi[standard]"`, `a[i]`): a bracket
# whose content starts with a digit is a citation marker, any other bracketed text is part of the sentence
_CLAIM = re.compile(r"\s*((?:[^\[\]]|\[[^\[\]\d\s][^\[\]]*\])+?)\s*((?:\[\s*\d+\s*\](?:\s*,\s*)?)+)\s*([.!?]?)")


def earlier_turn(history: list[tuple[str, str]]) -> str:
    """The previous question and answer, as the reader and the judge are told them ("" when there is none)."""
    if not history:
        return ""
    asked, said = history[-1]
    return f"Earlier question: {asked}\nEarlier answer: {without_markers(said)[:300]}\n"


def user_message(question: str, evidence: str, history: list[tuple[str, str]]) -> str:
    """The question, the numbered evidence, and the previous turn when there is one."""
    return template_text("reader_user").format(evidence=evidence, history=earlier_turn(history), question=question)


def grammar(n: int, claims: int = 3) -> str:
    """GBNF for an answer of up to ``claims`` sentences, each ending with markers ``[1]``..``[n]``; its text may
    hold bracketed words that do not start with a digit (code such as ``fastapi[standard]``)."""
    ids = " | ".join(f'"{i}"' for i in range(n, 0, -1))
    more = ' (" " claim)?' * (claims - 1)
    return (f'root ::= claim{more}\nclaim ::= text " "? "[" id "]" ("[" id "]")? "."?\n'
            f'text ::= ([^\\n\\[\\]] | "[" [^\\n\\[\\]0-9 ] [^\\n\\[\\]]* "]")+\nid ::= {ids}\n')


def claims(text: str, n: int, final: bool) -> tuple[list[tuple[str, list[int]]], int]:
    """The complete claims of ``text`` (sentence, cited numbers within 1..n) and where they end; the last
    one counts as complete only when ``final`` or when more text follows it."""
    out, end = [], 0
    for m in _CLAIM.finditer(text):
        if not final and not text[m.end():].strip():
            break
        ids = list(dict.fromkeys(int(d) for d in re.findall(r"\d+", m.group(2)) if 1 <= int(d) <= n))
        sentence = m.group(1) if m.group(1)[-1] in ".!?" else m.group(1) + (m.group(3) or ".")
        out.append((sentence, ids))
        end = m.end()
    return out, end


class ModelReader:
    """A chat model answers from the numbered evidence, citing a sentence number after each of its sentences."""

    def __init__(self, llm: BaseChatModel, policy: Policy) -> None:
        self.llm = llm
        self.policy = policy
        self.prompt_tokens = 0  # prompt tokens the model read, every call counted
        self.calls = 0

    def warm_up(self) -> None:
        """Load the model and its saved prompt states now rather than on the first question (local models)."""
        if hasattr(self.llm, "warm_up"):
            self.llm.warm_up(template_text("reader_system").strip(), judge=template_text("judge_system").strip(),
                             imagine=template_text("imagine_system").strip())

    def imagine(self, question: str, history: list[tuple[str, str]]) -> str:
        """A sentence the model imagines a document answering the question holds: words to search with, never shown."""
        system, user = template_text("imagine_system").strip(), earlier_turn(history) + question
        self.calls += 1
        if not hasattr(self.llm, "constrained"):
            return str(self.llm.invoke([SystemMessage(system), HumanMessage(user)]).content).strip().split("\n")[0]
        info, *text = self.llm.constrained(system, user, [], lambda p: "root ::= [^\\n]+", 40, role="imagine")
        self.prompt_tokens += int(info["prompt_tokens"])  # type: ignore[index]
        return "".join(text).strip()  # type: ignore[arg-type]

    def judge(self, question: str, quotes: list[Passage], history: list[tuple[str, str]]) -> float | None:
        """The model's probability that ``quotes`` answer the question (None: this model cannot say)."""
        if not hasattr(self.llm, "judge"):
            return None
        # a follow-up's "she" or "it" is named by the earlier answer: the judge is told it, as the reader is
        user = template_text("judge_user").format(sentence=" ".join(" ".join(p.text.split()) for p in quotes),
                                                  question=question, history=earlier_turn(history))
        p, read = self.llm.judge(template_text("judge_system").strip(), user)
        self.prompt_tokens += read
        self.calls += 1
        return p

    def read(self, question: str, evidence: list[Passage], history: list[tuple[str, str]],
             refuse_at: float | None = None) -> Stream:
        """Stream the reader's claims from the numbered ``evidence``; return its :class:`Reading`. It refuses
        when its P(none) reaches ``refuse_at`` (default: the policy's)."""
        system, user = template_text("reader_system").strip(), user_message(question, render(evidence), history)
        bar = self.policy.refuse_at if refuse_at is None else refuse_at
        reading = Reading()
        self.calls += 1
        n = len(evidence)

        def choose(p: dict[str, float]) -> str | None:  # the policy, not the argmax, decides a refusal
            return None if p_none(p) >= bar else grammar(n)

        if hasattr(self.llm, "constrained"):
            pieces = self.llm.constrained(system, user, NONES, choose, self.policy.answer_tokens)
        else:
            # a remote model's answer budget is set where it is built (settings.max_answer_tokens)
            pieces = (m.content for m in self.llm.stream([SystemMessage(system), HumanMessage(user)]))
        done = 0
        for piece in pieces:
            if isinstance(piece, dict):
                self.prompt_tokens += int(piece["prompt_tokens"])
                reading.p_none = p_none(piece)
                yield "p_none", reading.p_none
                continue
            reading.text += str(piece)
            found, end = claims(reading.text[done:], n, final=False)
            done += end
            for claim in found:
                reading.claims.append(claim)
                yield "claim", claim
        for claim in claims(reading.text[done:], n, final=True)[0]:
            reading.claims.append(claim)
            yield "claim", claim
        return reading


class LexicalReader:
    """No model: the sentence covering most of the question's weighted terms, if it covers enough."""

    prompt_tokens = calls = 0

    def __init__(self, idf: dict[str, float], floor: float = 0.5) -> None:
        self.idf = idf
        self.floor = floor

    def imagine(self, question: str, history: list[tuple[str, str]]) -> str:
        """No model, nothing imagined."""
        return ""

    def judge(self, question: str, quotes: list[Passage], history: list[tuple[str, str]]) -> float | None:
        """No judgement."""
        return None

    def read(self, question: str, evidence: list[Passage], history: list[tuple[str, str]],
             refuse_at: float | None = None) -> Stream:
        """The best covering sentence's number, or none."""
        top = max(self.idf.values(), default=1.0)
        weights = {t: self.idf.get(t, top) for t in set(terms(question))}
        scores = [coverage(weights, set(terms(p.text)) | set(terms(p.context))) for p in evidence]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        reading = Reading()
        if best is not None and scores[best] >= self.floor:
            reading.claims.append((evidence[best].text, [best + 1]))
            yield "claim", reading.claims[0]
        return reading
