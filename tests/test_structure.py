"""Document structure: section headings give sentences their context, and evidence is shown by document
and section in reading order."""

from __future__ import annotations

from qa.models import Passage


def test_headings_of_markdown_html_and_plain_text(tmp_path):
    from qa.ingest.loader import load
    from qa.ingest.sections import headings

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
    from qa.answer.evidence import sentences
    from qa.retrieval.hybrid import BM25Index

    text = "# Museum\n\n## Opening hours\n\nTuesday to Sunday: 10 to 5 daily for all.\n\nMondays: closed to all visitors.\n"
    cut = text.index("Mondays")
    first = Passage("m.md", "Museum", text[:cut], 0, cut, "m.md:0")
    second = Passage("m.md", "Museum", text[cut:], cut, len(text), f"m.md:{cut}")
    index = BM25Index([first, second])
    assert index.section("m.md", cut) == "Opening hours"  # its heading is in the chunk before
    assert index.section("m.md", 0) == "Museum" and index.section("other.md", 5) == ""
    monday = next(s for s in sentences([second], index.section) if s.text.startswith("Mondays"))
    assert monday.section == "Opening hours" and monday.context == "Museum\nOpening hours"
    assert text[monday.start : monday.end] == monday.text


def test_a_sentence_is_scored_with_its_title_and_section():
    from qa.answer.evidence import rank
    from qa.answer.policy import Policy

    sentence = "Mondays: closed (except on public holidays)"
    bare = Passage("m.html", "", sentence, 0, len(sentence), "m.html:0")
    placed = Passage("m.html", "Wrenhaven Maritime Museum", sentence, 0, len(sentence), "m.html:0", section="Opening hours")
    idf = {"day": 1.0, "week": 1.0, "wrenhaven": 2.0, "maritim": 2.0, "museum": 2.0, "close": 1.0, "hour": 1.0}
    question = "On which day of the week is the Wrenhaven Maritime Museum closed?"
    scores = {p.title: x for x, p in rank(question, [bare, placed], idf, Policy())}
    assert scores["Wrenhaven Maritime Museum"] > scores[""]


def test_evidence_is_shown_by_document_and_section_in_reading_order():
    from qa.answer.evidence import choose, render
    from qa.answer.policy import Policy

    a1 = Passage("a.md", "Kettle", "Fill to the MAX line.", 50, 71, "a.md:0", section="Use")
    a2 = Passage("a.md", "Kettle", "The warranty lasts two years.", 10, 39, "a.md:0", section="Warranty")
    b1 = Passage("b.md", "Toaster", "Toast for two minutes.", 0, 22, "b.md:0")
    chosen, lead = choose([(0.9, a1), (0.8, b1), (0.7, a2)], Policy())
    assert lead == chosen  # all within the first reading's tokens
    assert [p.text for p in chosen] == [a2.text, a1.text, b1.text]  # best file first, each in reading order
    assert render(chosen).splitlines() == ["Document: Kettle", "Section: Warranty", "[1] The warranty lasts two years.",
                                           "Section: Use", "[2] Fill to the MAX line.", "Document: Toaster",
                                           "[3] Toast for two minutes."]


def test_a_heading_or_list_line_is_its_own_sentence():
    from qa.text import sentence_spans

    text = "4. BRIDGE RENOVATION - PROGRESS REPORT\n## 7. Warranty\nIt cost 4 million. Then more.\nABSENT:\nCouncillor Voss"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "4. BRIDGE RENOVATION - PROGRESS REPORT", "## 7. Warranty", "It cost 4 million.", "Then more.", "ABSENT:",
        "Councillor Voss"]
