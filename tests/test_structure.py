"""Document structure and word forms: section headings give sentences their context; spelled-out
figures and irregular past forms match their digits and base forms."""

from __future__ import annotations

import pytest

from qa.models import Passage


def test_headings_of_markdown_html_and_plain_text(tmp_path):
    from qa.ingest.loader import load
    from qa.text import headings

    (tmp_path / "p.html").write_text(
        "<html><body><h1>Harbor Museum</h1><p>We love boats.</p><h2>Opening hours</h2>"
        "<ul><li>Mondays: closed</li></ul></body></html>"
    )
    text = load(tmp_path / "p.html", tmp_path).text
    assert "## Opening hours\n" in text  # an HTML heading is loaded as a Markdown heading
    assert [h for _, h in headings(text)] == ["Harbor Museum", "Opening hours"]
    minutes = "4. BRIDGE RENOVATION - PROGRESS REPORT\n\nThe Director reported.\nCARRIED 4-1.\nABSENT:\nCouncillor Voss\n"
    # a line in capitals is a heading; one ending a sentence ("CARRIED 4-1.") is not
    assert [h for _, h in headings(minutes)] == ["4. BRIDGE RENOVATION - PROGRESS REPORT", "ABSENT:"]
    md = "# Kettle\n\n## 7. Warranty\n\nTwo years.\n\n- **Rated power:** 2200 W\n"
    assert [(text_at, h) for text_at, h in headings(md)] == [(0, "Kettle"), (10, "7. Warranty")]


def test_a_sentence_knows_the_section_it_stands_in_across_chunks():
    from qa.answer.evidence import split_sentences
    from qa.retrieval.hybrid import BM25Index

    text = "# Museum\n\n## Opening hours\n\nTuesday to Sunday: 10 to 5 daily for all.\n\nMondays: closed to all visitors.\n"
    cut = text.index("Mondays")
    first = Passage("m.md", "Museum", text[:cut], 0, cut, "m.md:0")
    second = Passage("m.md", "Museum", text[cut:], cut, len(text), f"m.md:{cut}")
    index = BM25Index([first, second])
    assert index.section("m.md", cut) == "Opening hours"  # its heading is in the chunk before
    assert index.section("m.md", 0) == "Museum" and index.section("other.md", 5) == ""
    monday = next(s for s in split_sentences([second], index.section) if s.text.startswith("Mondays"))
    assert monday.section == "Opening hours" and monday.context == "Museum\nOpening hours"


def test_a_sentence_is_scored_with_its_title_and_section():
    from qa.answer.evidence import score_sentences

    sentence = "Mondays: closed (except on public holidays)"
    bare = Passage("m.html", "", sentence, 0, len(sentence), "m.html:0")
    placed = Passage("m.html", "Wrenhaven Maritime Museum", sentence, 0, len(sentence), "m.html:0", section="Opening hours")
    idf = {"day": 1.0, "week": 1.0, "wrenhaven": 2.0, "maritim": 2.0, "museum": 2.0, "close": 1.0, "hour": 1.0}
    question = "On which day of the week is the Wrenhaven Maritime Museum closed?"
    without, with_context = score_sentences(question, [bare, placed], idf)
    assert with_context.lexical > without.lexical
    # its own words still count most: the context is a share of the lexical score
    assert with_context.lexical < 1.0


def test_a_sentence_giving_the_kind_of_answer_asked_for_scores_higher():
    from qa.answer.evidence import TYPE_BONUS, score_sentences

    dated = "Work on the bridge began on March 4, 2024."
    undated = "Work on the bridge began in earnest."
    p = [Passage("a.txt", "", t, 0, len(t), "a.txt:0") for t in (dated, undated)]
    a, b = score_sentences("On what date did work on the bridge begin?", p, {"work": 1.0, "bridg": 1.0, "begin": 1.0})
    assert a.fits and not b.fits
    assert a.score == pytest.approx(0.4 * a.dense + 0.4 * a.lexical + 0.2 * a.prior + TYPE_BONUS)
    assert b.score == pytest.approx(0.4 * b.dense + 0.4 * b.lexical + 0.2 * b.prior)


def test_spelled_out_figures_and_irregular_past_forms_match():
    from qa.answer.answer_type import numbers
    from qa.answer.support import strict_tokens, supports
    from qa.text import spelled_numbers, stem, vocabulary

    assert spelled_numbers("all twenty-three men and forty volunteers") == {"23", "40"}  # not 20 and 3
    assert strict_tokens("The crew saved twenty-three men.") == {"23"}
    assert numbers("Twenty three boats, 5 oars") == {"23", "5"}
    assert supports("The lifeboat brought 23 men ashore.", "The lifeboat's crew brought all twenty-three men ashore.")
    assert stem("began") == "begin" and stem("held") == "hold" and stem("won") == "win"
    assert "begin" in vocabulary("Work on the bridge began on March 4.")  # a question's "begin" finds it
    assert {"23", "20", "3"} & vocabulary("all twenty-three men") == {"23"}  # a claim's 20 or 3 is not backed
    assert not supports("The lifeboat brought 3 men ashore.", "The lifeboat's crew brought all twenty-three men ashore.")
    assert supports("Renovation work began on March 4.", "Renovation work on the bridge begins on March 4.")


def test_a_numbered_heading_is_one_sentence():
    from qa.text import sentence_spans

    text = "4. BRIDGE RENOVATION - PROGRESS REPORT\n## 7. Warranty\nIt cost 4. Then more."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "4. BRIDGE RENOVATION - PROGRESS REPORT", "## 7. Warranty", "It cost 4.", "Then more."]


def test_a_claim_ending_in_a_function_word_is_dropped_but_not_one_ending_in_more():
    from qa.answer.citations import Claim
    from qa.answer.verify import Verifier

    text = "At 8 DHW or more, widespread bleaching and significant coral mortality are expected."
    evidence = [Passage("c.md", "Coral bleaching", text, 0, len(text), "c.md:0")]
    question = "At how many degree heating weeks is significant coral mortality expected?"
    kept = Verifier(question, evidence).check(Claim("8 DHW or more", (1,)))
    assert kept == "8 DHW or more [1]."
    verifier = Verifier(question, evidence)
    assert verifier.check(Claim("Significant coral mortality is expected at", (1,))) is None
    assert verifier.stats["dropped"] == 1
