"""ask(): grounding is enforced by the pipeline. Fake models drive the control flow; the real GGUF models
(SmolLM2, and the default Qwen) prove the end-to-end behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from qa.answer.citations import marked
from qa.answer.evidence import choose
from qa.answer.grounding import Grounder
from qa.answer.pipeline import MODEL_DECLINED, NOTHING_RELEVANT, UNVERIFIED, Pipeline
from qa.answer.policy import Policy
from qa.answer.reader import claims, grammar
from qa.errors import QAError
from qa.models import Passage, Progress
from qa.text import names, numbers, sentence_spans

CODENAME_Q = "What was the code name of Pakistan's retaliatory operation?"
CODENAME_FILE = "004_df5bf45f4cf73b0f.txt"


def _fake(text: str) -> GenericFakeChatModel:
    """A model that writes ``text`` whenever it reads; when the lead fails it imagines nothing (no second search)."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=x) for x in (text, "", text, text)]))


def _ask(seed_pipeline, reply: str, question: str = CODENAME_Q):
    return Pipeline(seed_pipeline.settings, llm=_fake(reply)).ask(question)


def _assert_citations_exact(answer, corpus: Path) -> None:
    numbers_ = [c.n for c in answer.citations]
    assert numbers_ == list(range(1, len(numbers_) + 1))
    for c in answer.citations:
        text = (corpus / c.source).read_text(encoding="utf-8")
        assert text[c.start : c.end] == c.quote, c


def _passage(text: str, source: str = "a.txt", start: int = 0, title: str = "") -> Passage:
    return Passage(source, title, text, start, start + len(text), f"{source}:{start}")


# ---- the grounding contract, with a fake model ------------------------------------------------------
def test_a_backed_claim_is_kept_with_the_sentence_it_comes_from(seed_pipeline):
    answer = _ask(seed_pipeline, "The operation was codenamed Marg Bar Sarmachar [1].")
    assert not answer.refused and "Marg Bar Sarmachar" in answer.text
    assert answer.sources == [CODENAME_FILE] and "Marg Bar Sarmachar" in answer.citations[0].quote
    _assert_citations_exact(answer, seed_pipeline.settings.corpus)


def test_an_invented_fact_is_dropped_and_refused(seed_pipeline):
    answer = _ask(seed_pipeline, "Imran Khan won the February 8 election [1].", "Who won the February 8 election in Pakistan?")
    assert answer.refused and answer.citations == [] and "Imran" not in answer.text


def test_an_invented_name_gives_way_to_the_sentence_the_claim_comes_from(seed_pipeline):
    """Its words come from the sentence, its name does not: the sentence itself is quoted."""
    answer = _ask(seed_pipeline, "A number of terrorists were killed during the operation codenamed Thunderbolt [1].")
    assert not answer.refused and "Thunderbolt" not in answer.text
    assert "Marg Bar Sarmachar" in answer.text and answer.timings["n_quoted"] == 1
    _assert_citations_exact(answer, seed_pipeline.settings.corpus)


def test_a_misnumbered_or_phantom_marker_is_repaired_to_the_sentence_that_backs_the_claim(seed_pipeline):
    answer = _ask(seed_pipeline, "The operation was codenamed Marg Bar Sarmachar [42].")
    assert not answer.refused and "[42]" not in answer.text and "[1]" in answer.text
    assert answer.sources == [CODENAME_FILE]
    _assert_citations_exact(answer, seed_pipeline.settings.corpus)


def test_the_model_declining_is_a_plain_refusal(seed_pipeline):
    answer = _ask(seed_pipeline, "none", "Who won the February 8 election in Pakistan?")
    assert answer.refused and answer.reason == MODEL_DECLINED and answer.text.startswith("The sources do not say")


@pytest.mark.parametrize("reply", [
    "The passage is not about who offered to mediate, but rather about the strikes [1].",
    "The context does not say who offered to mediate [2].",
    "There is no mention of a mediator in the sentences [1].",
    "None [3].",
])
def test_a_meta_answer_about_the_passages_is_never_shown_as_a_claim(seed_pipeline, reply):
    answer = _ask(seed_pipeline, reply, "Who offered to mediate between Iran and Pakistan?")
    assert answer.refused and answer.reason == MODEL_DECLINED and answer.citations == []


def test_an_off_topic_question_is_refused_without_the_model(seed_pipeline):
    answer = _ask(seed_pipeline, "Marg Bar Sarmachar [1].", "zxqv blorf wibble?")
    assert answer.refused and answer.reason == NOTHING_RELEVANT and answer.timings["model_calls"] == 0


def test_an_unverifiable_draft_is_refused_as_such(seed_pipeline):
    answer = _ask(seed_pipeline, "Bananas grow in Lahore [1].", "Who offered to mediate between Iran and Pakistan?")
    assert answer.refused and answer.reason == UNVERIFIED


def test_streaming_yields_only_the_verified_text(seed_pipeline):
    stream = Pipeline(seed_pipeline.settings, llm=_fake(
        "Imran Khan won [1]. The operation was codenamed Marg Bar Sarmachar [2].")).stream(CODENAME_Q)
    pieces = list(stream)
    assert "".join(pieces) == stream.answer.text and "Imran" not in stream.answer.text
    assert stream.answer.timings["first_token"] <= stream.answer.timings["total"]


def test_the_stream_says_what_is_read_before_the_verified_text(seed_pipeline):
    stream = Pipeline(seed_pipeline.settings, llm=_fake("The operation was codenamed Marg Bar Sarmachar [1].")).stream(CODENAME_Q)
    events = list(stream.events())
    assert isinstance(events[0], Progress) and all(isinstance(e, str) for e in events[1:])
    answer = stream.answer
    assert 1 <= events[0].passages <= len(answer.evidence)
    assert set(events[0].sources) <= {p.title or p.source for p in answer.evidence}
    assert "".join(events[1:]) == answer.text and "Marg Bar Sarmachar" in answer.text
    assert answer.timings["first_progress"] <= answer.timings["first_token"]


def test_a_repeated_claim_is_said_once(seed_pipeline):
    answer = _ask(seed_pipeline, "The operation was codenamed Marg Bar Sarmachar [1]. "
                                 "The operation was codenamed Marg Bar Sarmachar [1].")
    assert answer.text.count("Marg Bar Sarmachar") == 1


@pytest.mark.parametrize("bad", ["", "   \n\t", "x" * 2001, None])
def test_bad_questions_raise_value_error(seed_pipeline, bad):
    with pytest.raises(QAError) as info:
        seed_pipeline.ask(bad)
    assert isinstance(info.value, ValueError)


def test_control_characters_are_stripped(seed_pipeline):
    answer = _ask(seed_pipeline, "The operation was codenamed Marg Bar Sarmachar [1].", "What was the code\x00 name of "
                                 "Pakistan's retaliatory\x07 operation?")
    assert "\x00" not in answer.question and not answer.refused


def test_cli_bad_input_exits_2_without_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "   "], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 2 and "Traceback" not in out.stderr and "question is empty" in out.stderr


# ---- grounding rules on invented passages --------------------------------------------------------------
def _grounder(question: str, *texts: str, chunks: dict[str, str] | None = None) -> Grounder:
    return Grounder(question, [_passage(t, start=100 * i) for i, t in enumerate(texts)], Policy(), chunks)


def test_names_and_figures_of_a_claim_must_be_in_its_quote():
    g = _grounder("How many miners joined the strike?", "About 1,200 miners joined the strike in Corvale on Monday.")
    quote = g.evidence
    assert g.claim("1,200 miners joined the strike in Corvale.", quote).text == "1,200 miners joined the strike in Corvale."
    # a wrong figure or place never stands: the sentence the claim's words come from is quoted instead
    assert g.claim("1,300 miners joined the strike in Corvale.", quote).text == quote[0].text
    assert g.claim("1,200 miners joined the strike in Brantley.", quote).text == quote[0].text
    assert g.claim("1,300 miners struck in Brantley.", [_passage("The weather was mild.")]) is None


def test_a_name_spelt_otherwise_is_the_same_name():
    g = _grounder("Where did the strikes land?", "The strikes hit Sistan-Baluchestan province.")
    assert g.claim("The strikes hit Sistan-Balochestan province.", g.evidence)


def test_a_name_the_question_gives_may_stand_in_the_passage_around_the_quote():
    g = _grounder("What did Jilani insist on?", "He insisted on the right to respond.",
                  chunks={"a.txt:0": "Jilani called his counterpart. He insisted on the right to respond."})
    assert g.claim("Jilani insisted on the right to respond.", g.evidence)
    alone = _grounder("What did Jilani insist on?", "He insisted on the right to respond.")
    assert alone.claim("Jilani insisted on the right to respond.", alone.evidence).text == "He insisted on the right to respond."


def test_a_claim_that_only_restates_the_question_points_at_its_sentence_which_is_quoted_instead():
    g = _grounder("Who chaired the meeting of the committee?", "The committee met on Friday.")
    assert g.claim("The meeting of the committee was chaired.", g.evidence).text == "The committee met on Friday."
    assert g.claim("The meeting of the committee was chaired by [1].", []) is None  # points nowhere


def test_a_heading_or_a_sentence_repeated_elsewhere_takes_no_place_in_the_evidence():
    def s(text: str, start: int, score: float, source: str = "r.md", section: str = "Install") -> tuple[float, Passage]:
        return score, Passage(source, "R", text, start, start + len(text), f"{source}:0", score, section)
    ranked = [s("## Install", 0, 0.9), s("pip install thing", 11, 0.8), s("pip  install thing", 90, 0.8, "s.md"),
              s("Python 3.8+ is needed.", 30, 0.5)]
    assert [p.text for p in choose(ranked, Policy())[0]] == ["pip install thing", "Python 3.8+ is needed."]


def test_the_best_sentences_within_the_first_budget_lead_and_both_are_shown_in_reading_order():
    def s(text: str, start: int, source: str) -> Passage:
        return Passage(source, source, text, start, start + len(text), f"{source}:0")
    best, second, third = s("The dam is 40 metres high.", 50, "a"), s("It opened in 1932.", 0, "a"), s("Floods came.", 0, "b")
    ranked = [(0.9, best), (0.8, third), (0.7, second)]
    evidence, lead = choose(ranked, Policy(first_tokens=14))  # the best two are 8 + 5 tokens, the third 7
    assert [p.text for p in evidence] == [second.text, best.text, third.text]
    assert [p.text for p in lead] == [best.text, third.text]
    assert choose(ranked, Policy(first_tokens=0))[1] == evidence  # 0: all are read at once


def test_warm_up_opens_the_index_and_leaves_a_model_without_saved_states_alone(seed_pipeline):
    model = GenericFakeChatModel(messages=iter([AIMessage(content="The operation was codenamed Marg Bar Sarmachar [1].")]))
    p = Pipeline(seed_pipeline.settings, llm=model)
    p.warm_up()
    assert p.store.count() > 0 and p._retriever is not None
    assert "Marg Bar Sarmachar" in p.ask(CODENAME_Q).text  # the model's one reply was not spent


def test_a_model_that_does_not_load_fails_the_warm_up_with_one_line(seed_pipeline, tmp_path):
    from qa.components.llamacpp_chat import ChatLlamaCppLocal
    from qa.errors import BackendError

    (tmp_path / "broken.gguf").write_bytes(b"not a model")
    broken = Pipeline(seed_pipeline.settings, llm=ChatLlamaCppLocal(model_path=str(tmp_path / "broken.gguf")))
    with pytest.raises(BackendError, match="failed: Failed to load model"):
        broken.warm_up()


def test_the_wider_reading_follows_only_when_nothing_from_the_leading_sentences_stands(seed_pipeline):
    """The reader reads the best sentences first, and all of them only when nothing it says from those stands."""
    reply = "The operation was codenamed Marg Bar Sarmachar [1]."
    once = _ask(seed_pipeline, reply)
    assert not once.refused and once.timings["model_calls"] == 1 and "widened" not in once.timings
    imagined = "Pakistan named its retaliatory strikes Operation Marg Bar Sarmachar."  # what an answer would say
    model = GenericFakeChatModel(messages=iter([AIMessage(content=x) for x in ("none", imagined, reply)]))
    twice = Pipeline(seed_pipeline.settings, llm=model).ask(CODENAME_Q)
    assert not twice.refused and twice.timings["model_calls"] == 3 and twice.timings["widened"] == 1
    assert "Marg Bar Sarmachar" in twice.text
    _assert_citations_exact(twice, seed_pipeline.settings.corpus)


def test_the_wider_reading_searches_again_with_the_words_an_answer_would_use(seed_pipeline):
    """A paraphrase shares no word with its answer: what the reader imagines an answer says finds it."""
    question = "What name did Islamabad give to its reply?"
    hint = "Pakistan's retaliatory operation was codenamed Marg Bar Sarmachar."
    plain, hinted = seed_pipeline.prepare(question, []), seed_pipeline.prepare(question, [], hint)
    assert not any("Sarmachar" in p.text for p in plain.evidence)
    assert any("Sarmachar" in p.text for p in hinted.evidence) and hinted.question == plain.question
    reply = "It was codenamed Marg Bar Sarmachar [1]."
    model = GenericFakeChatModel(messages=iter([AIMessage(content=x) for x in ("none", hint, reply)]))
    answer = Pipeline(seed_pipeline.settings, llm=model).ask(question)
    assert answer.evidence == hinted.evidence and "Marg Bar Sarmachar" in answer.text
    _assert_citations_exact(answer, seed_pipeline.settings.corpus)


def test_a_backend_that_fails_while_imagining_is_one_line_naming_it(seed_pipeline):
    from qa.errors import BackendError

    class Dies(GenericFakeChatModel):  # reads the lead, then its server goes away
        def invoke(self, *args: object, **kwargs: object) -> AIMessage:
            raise ConnectionError("Connection refused")

    with pytest.raises(BackendError, match="failed: Connection refused"):
        Pipeline(seed_pipeline.settings, llm=Dies(messages=iter([AIMessage(content="none")]))).ask(CODENAME_Q)


def test_the_model_imagines_one_line_from_its_own_saved_state(seed_pipeline):
    """The local model writes the imagined sentence in a context of its own, read from the same state each time."""
    from qa.answer.reader import ModelReader

    reader = ModelReader(seed_pipeline.llm, seed_pipeline.policy)
    first = reader.imagine("Has any group owned up to the attack?", [])
    reader.imagine("Who mediated?", [])
    assert first and "\n" not in first and reader.imagine("Has any group owned up to the attack?", []) == first
    assert reader.calls == 3 and reader.prompt_tokens > 0


def test_another_file_giving_a_different_figure_is_quoted_as_another_account():
    a = Passage("a.txt", "A", "Officials said nine people were killed in the blast.", 0, 52, "a.txt:0", 0.9)
    b = Passage("b.txt", "B", "A hospital source said seven people were killed in the blast.", 0, 61, "b.txt:0", 0.88)
    g = Grounder("How many people were killed in the blast?", [a, b], Policy())
    g.say(g.claim("Nine people were killed [1].", [a]))
    accounts = g.accounts(judged=False)
    assert [x.quotes for x in accounts] == [[b]] and accounts[0].prefix == "Another account: "
    assert "seven" in g.say(accounts[0])


def test_a_sentence_adding_a_name_is_a_candidate_account_only_where_a_judge_will_vouch_for_it():
    a = Passage("a.txt", "A", "Iran struck the town of Panjgur in Balochistan.", 0, 47, "a.txt:0", 0.9)
    b = Passage("a.txt", "A", "Pakistan struck a Panjgur area in Sistan province.", 48, 98, "a.txt:1", 0.8)
    c = Passage("b.txt", "B", "The strike in Panjgur was condemned.", 0, 36, "b.txt:0", 0.5)  # too far below
    g = Grounder("Who struck Panjgur?", [a, b, c], Policy())
    g.say(g.claim("Iran struck Panjgur in Balochistan [1].", [a]))
    assert [x.quotes for x in g.accounts(judged=True)] == [[b]]  # same file, a name the answer lacks
    assert g.accounts(judged=False) == []  # unjudged: only another file's different figure


# ---- the reader's format -------------------------------------------------------------------------------
def test_claims_are_read_as_they_complete():
    text = "Nine people died [2]. Another source says seven [3][9]"
    done, end = claims(text, 5, final=False)
    assert done == [("Nine people died.", [2])] and text[end:].strip().startswith("Another")
    assert claims(text, 5, final=True)[0][-1] == ("Another source says seven.", [3])


def test_a_claim_may_hold_bracketed_code_that_is_not_a_marker():
    text = 'Install it with `uv add "fastapi[standard]"` [2]. Index it as a[i] [1][3].'
    assert claims(text, 3, final=True)[0] == [('Install it with `uv add "fastapi[standard]"`.', [2]),
                                              ("Index it as a[i].", [1, 3])]


def test_the_judge_of_a_follow_up_is_told_the_earlier_question_and_answer_as_the_reader_is():
    from qa.answer.reader import ModelReader, user_message

    class Recording:  # a local model's judge: (P(Yes), prompt tokens read)
        def __init__(self) -> None:
            self.users: list[str] = []

        def judge(self, system: str, user: str) -> tuple[float, int]:
            self.users.append(user)
            return 0.9, 7

    llm, history = Recording(), [("Who runs Newstrack?", "Bhoomi Goyal is its editor [2].")]
    reader = ModelReader(llm, Policy())  # type: ignore[arg-type]
    assert reader.judge("Where did she intern?", [_passage("She interned at a daily.")], history) == 0.9
    told = "Earlier question: Who runs Newstrack?\nEarlier answer: Bhoomi Goyal is its editor.\n"
    assert told in llm.users[0] and told in user_message("Where did she intern?", "[1] x", history)
    assert reader.prompt_tokens == 7 and reader.calls == 1


def test_the_grammar_allows_only_numbers_of_the_evidence():
    from llama_cpp import LlamaGrammar

    rules = grammar(3)
    assert '"3" | "2" | "1"' in rules and '"4"' not in rules
    assert '"[" [^\\n\\[\\]0-9 ]' in rules  # "[" opens text only before a character that no marker starts with
    LlamaGrammar.from_string(rules, verbose=False)  # llama.cpp parses it


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Nine people died.", "Nine people died [1]."),
    ('It was codenamed "Marg Bar Sarmachar."', 'It was codenamed "Marg Bar Sarmachar" [1].'),
    ("Was it?", "Was it [1]?"),
])
def test_citation_marks_go_before_the_stop_and_after_a_closing_quote(sentence, expected):
    assert marked(sentence, [1]) == expected


# ---- text units from libraries ----------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["Mr. Smith went home.", "He said \"no.\"", "9.5 km.", "Mondays: closed", "\n", "\f",
                                 "| E2 | Sensor fault |", "It ran.", " ", "Dr. Who? Yes!"]), max_size=12))
def test_sentence_spans_slice_the_text_in_order(parts):
    text = " ".join(parts)
    spans = sentence_spans(text)
    assert all(a < b and text[a:b] == text[a:b].strip() for a, b in spans)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:], strict=False))
    assert all("\n" not in text[a:b] and "\f" not in text[a:b] for a, b in spans)


def test_figures_and_names():
    assert numbers("nine people, 1,200 trucks and twenty-three injured") == {"9", "1200", "23"}
    assert names("Pakistan's Foreign Office met the Iran-Pakistan team") == {"pakistan", "foreign", "office", "iran"}


# ---- the real models --------------------------------------------------------------------------------------
@pytest.mark.llm
def test_smollm2_end_to_end_citations_are_exact(seed_pipeline):
    """The real small model: whatever it writes, what survives is cited exactly or refused."""
    for q in (CODENAME_Q, "Who offered to mediate between Iran and Pakistan?", "Who won the February 8 election?"):
        answer = seed_pipeline.ask(q)
        assert answer.refused or answer.citations
        _assert_citations_exact(answer, seed_pipeline.settings.corpus)
        assert answer.timings["model_calls"] >= 1 or answer.refused


@pytest.mark.llm
def test_default_model_answers_the_codename_and_refuses_the_unknown(seed_settings):
    """The default preset (Qwen2.5-Coder-1.5B) on the product's acceptance question."""
    from qa.api import get_pipeline

    pipeline = get_pipeline(seed_settings, llm_preset="qwen1.5b")
    answer = pipeline.ask("What was the code name of Pakistan's retaliatory military operation?")
    assert not answer.refused, answer.raw
    assert "Marg Bar Sarmachar" in answer.text and CODENAME_FILE in answer.sources
    _assert_citations_exact(answer, seed_settings.corpus)
    # tempting: the articles give other casualty figures of the strikes
    unknown = pipeline.ask("How many Pakistani soldiers were killed by the Iranian strike?")
    assert unknown.refused and not unknown.citations


@pytest.mark.llm
def test_default_model_gives_each_account_where_the_articles_disagree(seed_settings):
    """Two articles place the Panjgur strike in different countries: each account is given with its own quote."""
    from qa.api import get_pipeline

    answer = get_pipeline(seed_settings, llm_preset="qwen1.5b").ask(
        "Was the Panjgur area struck by Iran or by Pakistan, according to the articles?")
    quotes = [c.quote for c in answer.citations]
    assert "Another account: " in answer.text, answer.text
    assert any("Balochistan" in q for q in quotes) and any("Sistan" in q for q in quotes), quotes
    _assert_citations_exact(answer, seed_settings.corpus)


@pytest.mark.llm
@pytest.mark.xfail(strict=True, reason="known miss (issue 19 note): the judge gives P(Yes) 0.62 to a sentence that "
                   "names the election but not its winner; the reader answers with the caretaker prime minister")
def test_default_model_refuses_a_winner_the_articles_never_name(seed_settings):
    """A sentence about the election that names no winner is no answer to "who won"."""
    from qa.api import get_pipeline

    unknown = get_pipeline(seed_settings, llm_preset="qwen1.5b").ask("Who won the February 8 general election in Pakistan?")
    assert unknown.refused and not unknown.citations
