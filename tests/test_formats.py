"""PDF, DOCX, Markdown and HTML are indexed as readable text: real files made in the test, real Chroma, real embedder.

The contract for every format: ``load(path, corpus).text[start:end] == quote`` for every chunk and citation, no
markup (badges, images, link targets, tags, reference definitions) in any chunk or answer, and a PDF's page
numbers (1-based, from the form feeds between pages).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.ingest.chunker import chunk_document
from qa.ingest.loader import load
from qa.models import Passage

PAGE_TWO_FACT = "The eastern breakwater settled by 37 centimetres between 1998 and 2023."
DOCX_FACT = "The lighthouse keeper logged 412 ships in March."

README = """\
<p align="center">
  <img src="https://example.org/widgetron-logo.png" alt="Widgetron logo" width="200">
</p>

<h1 align="center">Widgetron</h1>

[![PyPI](https://img.shields.io/pypi/v/widgetron.svg)](https://pypi.org/project/widgetron/)
[![Build Status](https://github.com/acme/widgetron/actions/workflows/ci.yml/badge.svg)](https://github.com/acme/widgetron/actions)
<img src="https://img.shields.io/badge/license-MIT-blue" alt="Package version">

Widgetron turns **spreadsheets** into _dashboards_. Read the [user guide][guide] or the
[changelog](https://github.com/acme/widgetron/blob/main/CHANGELOG.md) before upgrading.

## Install

```bash
pip install widgetron
widgetron serve --port 8123
```

## Options

| Option | Default | Meaning |
|--------|---------|---------|
| `--port` | 8123 | the port the dashboard server listens on |
| `--workers` | 4 | worker processes that render charts |

## Support

Widgetron is maintained by the Acme data team and supports Python 3.10 and newer.
![architecture diagram][diagram]

[guide]: https://widgetron.example.org/guide "User guide"
[diagram]: https://example.org/diagram.png
"""

MARKUP = ("](", "![", "<img", "<p", "</", "img.shields.io", "pypi.org/project", "badge.svg", "example.org",
          "[guide]", "[diagram]", "**", "`")


def write_pdf(path: Path, pages: list[list[str]], encrypt: str | None = None) -> None:
    """A PDF with a bold heading and paragraphs on each page (fpdf2, core Helvetica font)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Harbor Survey")
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password=encrypt)
    for n, paragraphs in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, f"Part {n}")
        pdf.ln(4)
        pdf.set_font("Helvetica", size=11)
        for text in paragraphs:
            pdf.multi_cell(0, 5, text)
            pdf.ln(5)
    pdf.output(str(path))


def write_scanned_pdf(path: Path) -> None:
    """A PDF whose only page is a picture of text: no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "Scanned page: the harbor opened in 1850.", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    pdf.output(str(path))


def write_docx(path: Path) -> None:
    """A Word file with a title, a heading, a formatted paragraph, a list item and a table (python-docx)."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Field Notes"
    document.add_heading("Field Notes", 0)
    document.add_heading("Findings", level=1)
    paragraph = document.add_paragraph("The lighthouse keeper logged ")
    paragraph.add_run("412 ships").bold = True
    paragraph.add_run(" in March.")
    document.add_paragraph("Bring a storm lantern on night walks.", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for r, (item, count) in enumerate([("Item", "Count"), ("Lamps", "7"), ("Ropes", "12")]):
        table.cell(r, 0).text, table.cell(r, 1).text = item, count
    document.save(str(path))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a 3-page PDF (the fact on page 2), a DOCX, a README with badges and an HTML page."""
    root = tmp_path_factory.mktemp("formats") / "corpus"
    root.mkdir()
    filler = ("The survey team walked the quay every morning and wrote down what they measured in a shared "
              "notebook, so that the readings of different days could be compared later on.")
    write_pdf(root / "survey.pdf", [
        ["The harbor survey of 2023 was commissioned by the town council.", filler],
        [filler, PAGE_TWO_FACT + " The engineers recommend reinforcing it before the winter storms."],
        ["The appendices list every measurement station along the harbor wall.", filler],
    ])
    write_docx(root / "notes.docx")
    (root / "README.md").write_text(README, encoding="utf-8")
    (root / "page.html").write_text(
        "<html><head><title>Ferry</title><style>p {color: red}</style></head><body><h2>Timetable</h2>"
        "<table><tr><th>Stop</th><th>Departs</th></tr><tr><td>North pier</td><td>07:15</td></tr></table>"
        "<p>Tickets are sold <a href='https://ferry.example.org/tickets'>online</a>.<img src='x.png' alt='ad'></p>"
        "<pre>\nferry --route north\n    --time 07:15\n</pre></body></html>",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def indexed(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    """The corpus ingested into a real Chroma store with the real embedder; (pipeline, report)."""
    from qa.api import get_pipeline
    from qa.settings import load_settings

    store = tmp_path_factory.mktemp("formats_store")
    pipeline = get_pipeline(load_settings(corpus=str(corpus), store=str(store), llm_preset="smollm2"))
    return pipeline, pipeline.ingest()


def test_readme_renders_to_text_without_markup(corpus: Path) -> None:
    text = load(corpus / "README.md", corpus).text
    lines = text.splitlines()
    for mark in MARKUP:
        assert mark not in text, (mark, text)
    assert "http" not in text and "Widgetron logo" not in text and "Package version" not in text  # alt text too
    assert lines[0] == "# Widgetron"  # the HTML heading of the README became its title line
    assert "## Install" in lines and "## Options" in lines
    assert "Widgetron turns spreadsheets into dashboards. Read the user guide or the changelog before upgrading." in lines
    assert "pip install widgetron" in lines and "widgetron serve --port 8123" in lines  # the code block, line by line
    assert "Option: --port; Default: 8123; Meaning: the port the dashboard server listens on" in lines  # a table row
    assert "Option: --workers; Default: 4; Meaning: worker processes that render charts" in lines


def test_html_renders_tables_code_and_link_text(corpus: Path) -> None:
    doc = load(corpus / "page.html", corpus)
    lines = doc.text.splitlines()
    assert doc.title == "Ferry"
    assert "## Timetable" in lines and "Stop: North pier; Departs: 07:15" in lines
    assert "Tickets are sold online." in lines
    assert "ferry --route north" in lines and "    --time 07:15" in lines  # <pre> keeps its indentation
    assert "color" not in doc.text and "ad" not in lines and "https" not in doc.text


def test_pdf_pages_are_separated_and_numbered(corpus: Path) -> None:
    doc = load(corpus / "survey.pdf", corpus)
    assert doc.paged and doc.title == "Harbor Survey"
    assert doc.text.count("\f") == 2  # three pages
    start = doc.text.index(PAGE_TWO_FACT)  # a sentence wrapped over two lines in the PDF is one line of text
    assert 1 + doc.text.count("\f", 0, start) == 2
    assert "## Part 2" in doc.text.splitlines()  # the large bold heading is a section heading
    chunks = chunk_document("survey.pdf", doc.title, doc.text, 40, 8, paged=True)
    assert [c.page for c in chunks] == sorted(c.page for c in chunks) and {c.page for c in chunks} == {1, 2, 3}
    for c in chunks:
        passage = Passage(c.source, c.title, c.text, c.start, c.end, c.id, page=c.page)
        if PAGE_TWO_FACT in c.text:
            assert passage.page_at(c.text.index(PAGE_TWO_FACT)) == 2
        for offset in range(0, len(c.text), 7):
            assert passage.page_at(offset) == 1 + doc.text.count("\f", 0, c.start + offset)


def test_docx_reads_headings_runs_lists_and_tables(corpus: Path) -> None:
    doc = load(corpus / "notes.docx", corpus)
    lines = doc.text.splitlines()
    assert not doc.paged and doc.title == "Field Notes"
    assert "# Findings" in lines and DOCX_FACT in lines  # the bold run is part of its sentence
    assert "Bring a storm lantern on night walks." in lines
    assert "Item: Lamps; Count: 7" in lines and "Item: Ropes; Count: 12" in lines


def test_ingest_indexes_every_format_with_exact_offsets_and_pages(corpus: Path, indexed) -> None:
    pipeline, report = indexed
    assert sorted(report.added) == ["README.md", "notes.docx", "page.html", "survey.pdf"], report.skipped
    passages = pipeline.store.all_passages()
    texts = {source: load(corpus / source, corpus).text for source in report.added}
    assert {p.source for p in passages} == set(texts)
    for p in passages:
        assert texts[p.source][p.start : p.end] == p.text
        for mark in MARKUP:
            assert mark not in p.text, (mark, p.source, p.text)
        if p.source == "survey.pdf":
            assert p.page == 1 + texts[p.source].count("\f", 0, p.start)
        else:
            assert p.page is None
    fact = next(p for p in passages if PAGE_TWO_FACT in p.text)
    assert fact.page_at(fact.text.index(PAGE_TWO_FACT)) == 2
    readme = " ".join(p.text for p in passages if p.source == "README.md")
    assert "Default: 8123" in readme and "pip install widgetron" in readme


def test_unusable_pdf_and_docx_are_reported_by_name_and_not_indexed(tmp_settings) -> None:
    from qa.api import get_pipeline

    corpus = tmp_settings.corpus
    write_scanned_pdf(corpus / "scan.pdf")
    write_pdf(corpus / "locked.pdf", [["Secret minutes of the harbor board."]], encrypt="s3cret")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n")  # cut off: no xref, no pages
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (corpus / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # an encrypted Office file
    write_docx(corpus / "good.docx")
    pipeline = get_pipeline(tmp_settings)
    report = pipeline.ingest()
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {"scan.pdf", "locked.pdf", "broken.pdf", "broken.docx", "locked.docx"}, reasons
    assert "no text layer" in reasons["scan.pdf"]
    assert "encrypted" in reasons["locked.pdf"] and "password" in reasons["locked.pdf"]
    assert "unreadable PDF" in reasons["broken.pdf"]
    assert "unreadable DOCX" in reasons["broken.docx"] and "encrypted" in reasons["locked.docx"]
    assert report.added == ["good.docx"]
    assert set(pipeline.store.chunk_counts()) == {"good.docx"} and set(pipeline.store.indexed_files()) == {"good.docx"}
    for source in reasons:
        with pytest.raises(ValueError):
            load(corpus / source, corpus)


@pytest.mark.llm
def test_ask_over_formats_cites_exact_quotes_pages_and_no_markup(corpus: Path, indexed) -> None:
    """End to end with SmolLM2: only what holds for any grounded pipeline (the wording is the model's)."""
    from qa.api import ask

    pipeline, _ = indexed
    settings = pipeline.settings
    questions = [
        "How much did the eastern breakwater settle between 1998 and 2023?",
        "What is the default port of the Widgetron dashboard server?",
        "How many ships did the lighthouse keeper log in March?",
    ]
    texts: dict[str, str] = {}
    for question in questions:
        answer = ask(question, corpus=str(settings.corpus), store=str(settings.store), llm_preset="smollm2")
        for mark in MARKUP:
            assert mark not in answer.text, (mark, answer.text)
        assert not re.search(r"https?://", answer.text), answer.text
        for c in answer.citations:
            text = texts.setdefault(c.source, load(corpus / c.source, corpus).text)
            assert text[c.start : c.end] == c.quote, c
            if c.source == "survey.pdf":
                assert c.page == 1 + text.count("\f", 0, c.start), c
            else:
                assert c.page is None, c


def test_cli_prints_the_page_of_a_paged_citation(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """``qa ask`` names the page of a PDF quote (``survey.pdf p. 2``) and none for unpaged files."""
    from qa import api, cli
    from qa.models import Answer, Citation

    answer = Answer("How much did it settle?", "It settled by 37 centimetres [1]. It has four workers [2].", citations=[
        Citation(1, "survey.pdf", PAGE_TWO_FACT, 10, 10 + len(PAGE_TWO_FACT), "survey.pdf:0", page=2),
        Citation(2, "README.md", "Default: 4", 5, 15, "README.md:0"),
    ])

    class Answers:
        def ask(self, question: str) -> Answer:
            return answer

    monkeypatch.setattr(api, "get_pipeline", lambda **_: Answers())
    assert cli.main(["ask", "How much did it settle?"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f'[1] survey.pdf p. 2 — "{PAGE_TWO_FACT}"' in out and '[2] README.md — "Default: 4"' in out
