"""The model as judge for corpus-unseen question words (qa/answer/judge.py).

A fake model with a fixed P(Yes) drives the control flow; the real default model (Qwen) shows the
judgement itself separates a paraphrase's answer from a near miss.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from qa.answer.judge import adds_answer, sentence_judge, threshold
from qa.answer.pipeline import DECLINED_JUDGED, Pipeline
from qa.answer.prompts import judge_prompt
from qa.answer.verify import restates

LORRIES_Q = "What foods were on the lorries going into Iran at Taftan?"
TRUCKS = ("Over 100 trucks, laden with various goods like rice and potatoes, crossed from Pakistan to Iran at the "
          "Taftan border on Thursday.")


class _Judging(GenericFakeChatModel):
    """A fake chat model that also answers yes_probability with a fixed value, and counts the calls."""

    p_yes: float = 0.9
    asked: list[str] = []
    p_for: dict[str, float] = {}  # P(Yes) for sentences holding a given text

    def yes_probability(self, messages: Any) -> float:
        prompt = str(messages[-1].content)
        self.asked.append(prompt)
        return next((p for text, p in self.p_for.items() if text in prompt), self.p_yes)


def _judging(text: str, p_yes: float) -> _Judging:
    return _Judging(messages=iter([AIMessage(content=text)] * 4), p_yes=p_yes, asked=[])


@pytest.mark.parametrize(("p_yes", "answered"), [(0.95, True), (0.3, False)])
def test_a_claim_lacking_an_unseen_question_word_stands_only_if_the_model_vouches(seed_pipeline, p_yes, answered):
    llm = _judging("Rice and potatoes were on the lorries going into Iran at Taftan [1].", p_yes)
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(LORRIES_Q)
    assert llm.asked, "the judge was consulted"
    assert answer.refused is not answered
    if answered:
        assert answer.timings["n_vouched"] == 1 and "rice and potatoes" in answer.citations[0].quote
    else:
        assert not answer.citations


@pytest.mark.parametrize(("p_yes", "answered"), [(0.95, True), (0.3, False)])
def test_a_claim_repeating_a_question_word_its_quote_lacks_stands_only_if_vouched(seed_pipeline, p_yes, answered):
    # "charge" is the question's word; the quote backs the rest of the claim but says nothing of who leads the group
    llm = _judging("Abdollahian is in charge of the Jaish al-Adl group [1].", p_yes)
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask("Who is in charge of the Jaish al-Adl group?")
    assert llm.asked, "the judge was consulted"
    assert answer.refused is not answered
    assert answer.timings["n_vouched" if answered else "n_unvouched"] == 1


@pytest.mark.parametrize(("draft", "question"), [
    # bare: a figure alone ties its quote to nothing the question asks
    ("9 [1].", "How many people were wounded in Pakistan's strikes on Sistan-Baluchestan?"),
    # "heads" is a word the corpus never uses; the claim's own "led" is not in its quote either
    ("The Balochistan Liberation Army is led by the Balochistan Liberation Front [1].",
     "Who heads the Balochistan Liberation Army?"),
])
@pytest.mark.parametrize(("p_yes", "answered"), [(0.95, True), (0.3, False)])
def test_a_bare_claim_or_one_in_words_of_its_own_stands_only_if_vouched(seed_pipeline, draft, question, p_yes,
                                                                       answered):
    llm = _judging(draft, p_yes)
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(question)
    assert llm.asked, "the judge was consulted"
    assert answer.timings["n_vouched" if answered else "n_unvouched"] == 1
    if not answered:
        assert answer.refused


def test_without_a_calibrated_judge_the_strict_rule_stands(seed_pipeline):
    llm = _judging("Rice and potatoes were on the lorries going into Iran at Taftan [1].", 0.99)
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0), llm=llm).ask(LORRIES_Q)
    assert answer.refused and not llm.asked
    assert threshold(seed_pipeline.settings) == 0  # smollm2: no calibrated threshold
    assert threshold(seed_pipeline.settings.replace(llm_preset="qwen1.5b")) == 0.75
    assert threshold(seed_pipeline.settings.replace(llm_preset="qwen1.5b", llm="openai")) == 0  # no P(Yes) remotely
    assert sentence_judge(GenericFakeChatModel(messages=iter([])), seed_pipeline.settings.replace(vouch=0.8), "q") is None


def test_a_declined_paraphrase_quotes_the_sentence_the_model_vouches_for(seed_pipeline):
    llm = _judging("NOT FOUND", 0.95)
    q = "Which Iranian city suffered the IS suicide bombing that killed 85?"
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(q)
    assert not answer.refused and answer.timings.get("n_extracted") == 1
    assert "Kerman" in answer.text and 1 <= len(llm.asked) <= DECLINED_JUDGED


@pytest.mark.parametrize(("p_yes", "answered"), [(0.95, True), (0.3, False)])
def test_a_declined_answer_may_quote_a_less_covering_sentence_the_model_vouches_for(seed_pipeline, p_yes, answered):
    # no sentence covers 0.7 of this question's weighted words; the TDF sentence covers about a third
    llm = _judging("NOT FOUND", p_yes)
    q = "How soon after the cross-border strikes did Islamabad and Tehran start winding down hostilities?"
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(q)
    assert answer.refused is not answered
    # the best covering sentence first, then the next best, down to DECLINED_COVERAGE, at most DECLINED_JUDGED
    assert 1 < len(llm.asked) <= DECLINED_JUDGED and "48 hours" in llm.asked[0]
    if answered:  # all equally probable: the best covering one is quoted
        assert "48 hours" in answer.text and answer.timings.get("n_extracted") == 1


def test_a_declined_answer_puts_at_most_a_few_sentences_to_the_judge(seed_pipeline):
    llm = _judging("NOT FOUND", 0.3)
    q = "Which country offered to help the two sides make peace after the strikes?"
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(q)
    assert answer.refused and len(llm.asked) == DECLINED_JUDGED
    assert len(set(llm.asked)) == DECLINED_JUDGED  # each sentence once


def test_of_the_sentences_vouched_for_the_most_probable_is_quoted(seed_pipeline):
    llm = _judging("NOT FOUND", 0.3)
    llm.p_for = {"called for restraint, while China offered": 0.82, "alarmed the United States": 0.9}
    q = "Which country offered to help the two sides make peace after the strikes?"
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(q)
    assert not answer.refused and answer.timings.get("n_extracted") == 1
    assert "alarmed the United States" in answer.text and "called for restraint" not in answer.text


def test_names_the_corpus_never_uses_are_never_vouched_for(seed_pipeline):
    llm = _judging("NOT FOUND", 0.99)
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(
        "What did the United Nations Secretary-General say about the strikes?")
    assert answer.refused


@pytest.mark.parametrize(("question", "sentence", "ok"), [
    ("Who penned the Dawn editorial?", "ONE of the major irritants ... says an edit in 'Dawn'.", False),
    ("Who heads Pakistan's diplomacy?", "Foreign Minister Jalil Abbas Jilani stressed Pakistan's right.", True),
    ("On what date was the station attacked last month?", "Last month, at least 11 police officers were killed.", False),
    ("On which weekday did Iran launch its barrage?", "On Tuesday, Iran attacked the positions.", True),
    ("How many policemen perished?", "at least 11 Iranian police officers were killed", True),
])
def test_a_vouched_sentence_must_give_the_kind_of_answer_asked_for(question, sentence, ok):
    assert adds_answer(question, sentence) is ok


def test_an_answer_that_only_restates_the_question_is_no_answer():
    q = "Who is Islamabad's ambassador that identified the nine people killed on Saturday as Pakistanis?"
    assert restates("Islamabad's ambassador identified the 9 people killed on Saturday as Pakistanis", q)
    assert not restates("ISPR", "What is the name of the military's media wing?")
    assert not restates("Yes, the strike killed nationals", "Did the strike kill nationals?")


@pytest.mark.llm
def test_the_default_model_vouches_for_a_paraphrase_not_for_a_near_miss(seed_settings):
    """Qwen's P(Yes): the trucks sentence answers the lorries question; no sentence gives Panjgur's population."""
    from qa.components.llm import get_llm

    settings = seed_settings.replace(llm_preset="qwen1.5b")
    llm = get_llm(settings)
    judge = sentence_judge(llm, settings, LORRIES_Q)
    near = sentence_judge(llm, settings, "What is the population of Panjgur?")
    assert judge is not None and near is not None
    assert judge(TRUCKS)
    assert not near("Mumtaz Khetran, the deputy commissioner of Panjgur, noted ongoing trade through the Chidgi "
                    "border with Iran.")
    # the judgement leaves generation as it was, even when asked while an answer is still streaming
    # (the pipeline verifies each claim as soon as it is complete)
    before = llm.invoke("Count from one to eight in words.", max_tokens=16).content

    def judged_mid_stream() -> str:
        chunks = []
        for i, chunk in enumerate(llm.stream("Count from one to eight in words.", max_tokens=16)):
            chunks.append(chunk.content)
            if i == 2:
                llm.yes_probability(judge_prompt().format_messages(question=LORRIES_Q, sentence=TRUCKS))
        return "".join(chunks)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(judged_mid_stream).result(timeout=120) == before  # no deadlock, same text


@pytest.mark.parametrize(("question", "judged"), [
    # the quote counts injuries from the other side's attack: it covers little of this question
    ("How many people were wounded in Pakistan's strikes on Sistan-Baluchestan?", True),
    # the quote is about this attack: "injured" in place of the corpus-unseen "wounded" stands as it is
    ("How many people were wounded in Iran's attack on Pakistan?", False),
])
def test_a_claim_answering_in_words_of_its_own_stands_unjudged_only_on_a_quote_about_the_question(
        seed_pipeline, question, judged):
    llm = _judging("3 people were injured [1].", 0.3)
    answer = Pipeline(seed_pipeline.settings.replace(vouch=0.8), llm=llm).ask(question)
    assert answer.refused is judged
    assert bool(llm.asked) is judged
