"""HTML and Markdown for the chat: linked [n] markers, the sources panel, the corpus bar.

All document text is untrusted and is escaped before it is shown.
"""

from __future__ import annotations

import html
import re
import time

from qa.models import Answer, Citation, Passage, Progress

MARKER = re.compile(r"\[(\d{1,3})\]")


def linked_answer(answer: Answer, msg_id: str = "m") -> str:
    """Chat Markdown for an answer: markers link to the answer's own sources, shown in a collapsible block
    under it (ids ``src-<msg_id>-<n>``, unique per message); refusals look different."""
    if answer.refused:
        return f"> ⚠️ **The sources do not say.**\n>\n> {_md_escape(answer.reason or 'No supporting passage was found.')}"
    body = _md_escape(answer.text).replace("\\[", "[").replace("\\]", "]")
    body = MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#src-{msg_id}-{m.group(1)})", body)
    return f"{body}\n\n{message_sources(answer, msg_id)}" if answer.citations else body


def page_label(c: Citation | Passage) -> str:
    """``p. N`` for a paged source (PDF), else empty."""
    page = getattr(c, "page", None)
    return f"p. {page}" if page else ""


def _passage_of(answer: Answer, c: Citation) -> Passage | None:
    return next((p for p in answer.evidence if p.source == c.source and p.start <= c.start and c.end <= p.end), None)


def _cite_head(c: Citation) -> str:
    page = page_label(c)
    return (f"<b>[{c.n}]</b> <code>{html.escape(c.source)}</code>" + (f" · {page}" if page else "")
            + (f" — <i>{html.escape(c.title)}</i>" if c.title else ""))


def message_sources(answer: Answer, msg_id: str) -> str:
    """One answer's numbered sources as a collapsible HTML block (one line: no blank line may end it)."""
    items = "".join(
        f"<div class='qa-cite' id='src-{msg_id}-{c.n}'><div class='qa-cite-head'>{_cite_head(c)}</div>"
        f"<div class='qa-passage'>{_one_line(_highlight(_passage_of(answer, c), c))}</div></div>"
        for c in answer.citations
    )
    n = len(answer.citations)
    return f"<details class='qa-msg-sources'><summary>Sources ({n})</summary>{items}</details>"


def _one_line(fragment: str) -> str:
    return re.sub(r"\s+", " ", fragment).strip()


def _md_escape(text: str) -> str:
    """Neutralise HTML and Markdown control characters in model/document text."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_{}()#+!|~>])", r"\\\1", text)


def reading_status(progress: Progress, max_titles: int = 3, max_chars: int = 60) -> str:
    """What the chat shows while the model reads, before any verified text: how many sentences, from which
    documents ("Reading 4 sentences from «Title A» and «Title B»…")."""
    titles = [_one_line(t) for t in progress.sources[:max_titles]]
    named = [f"«{_md_escape(t if len(t) <= max_chars else t[:max_chars - 1] + '…')}»" for t in titles]
    if len(progress.sources) > max_titles:
        named.append(f"{len(progress.sources) - max_titles} more")
    files = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else "".join(named) or "the documents"
    return f"_Reading {progress.passages} sentence{'s' if progress.passages != 1 else ''} from {files}…_"


def _highlight(passage: Passage | None, c: Citation) -> str:
    if passage is None or not (passage.start <= c.start and c.end <= passage.end):
        return f"<mark>{html.escape(c.quote)}</mark>"
    a, b = c.start - passage.start, c.end - passage.start
    t = passage.text
    return f"{html.escape(t[:a])}<mark>{html.escape(t[a:b])}</mark>{html.escape(t[b:])}"


def sources_html(answer: Answer | None, show_evidence: bool = False) -> str:
    """The sources panel: each citation with file, page, title and the quote highlighted in its passage."""
    if answer is None:
        return "<div class='qa-sources qa-empty'>Sources of the answer appear here.</div>"
    parts = ["<div class='qa-sources'>"]
    if answer.refused:
        parts.append(f"<div class='qa-refusal'><b>No answer:</b> {html.escape(answer.reason or 'nothing relevant')}</div>")
    for c in answer.citations:
        parts.append(
            f"<div class='qa-cite' id='side-{c.n}'><div class='qa-cite-head'>{_cite_head(c)}</div>"
            f"<div class='qa-passage'>{_highlight(_passage_of(answer, c), c)}</div></div>"
        )
    if show_evidence and answer.evidence:
        parts.append("<details open><summary>All retrieved evidence</summary><ol>")
        for p in answer.evidence:
            page = page_label(p)
            parts.append(f"<li><code>{html.escape(p.source)}</code>{' · ' + page if page else ''} score {p.score:.3f}: "
                         f"{html.escape(p.text)}</li>")
        parts.append("</ol></details>")
    parts.append("</div>")
    return "".join(parts)


def _source_line(c: Citation) -> str:
    page = page_label(c)
    quote = re.sub(r"\s+", " ", c.quote).strip()
    return f'[{c.n}] {c.source}{", " + page if page else ""} — "{quote}"'


def copy_text(answer: Answer | None) -> str:
    """The answer with its citations as plain text, for copying."""
    if answer is None:
        return ""
    return "\n".join([answer.text, *(_source_line(c) for c in answer.citations)])


def chat_markdown(turns: list[tuple[str, Answer]], when: float | None = None) -> str:
    """The chat as Markdown: each question, each answer with its [n] markers, and its numbered sources."""
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(when if when is not None else time.time()))
    lines = [f"# qa chat, exported {stamp}", ""]
    for i, (question, answer) in enumerate(turns, 1):
        lines += [f"## Question {i}", "", question.strip(), "", "### Answer", ""]
        if answer.refused:
            lines += [answer.text.strip() + (f" ({answer.reason})" if answer.reason else ""), ""]
            continue
        lines += [answer.text.strip(), ""]
        if answer.citations:
            lines += ["Sources:", ""]
            lines += [f"- {_source_line(c)}" for c in answer.citations]
            lines.append("")
    return "\n".join(lines)


def corpus_bar(files: int, chunks: int, last_indexed: float | None, model: str) -> str:
    """One line about the index and the model."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last_indexed)) if last_indexed else "never"
    return f"**Corpus:** {files} files · {chunks} chunks · last indexed {when} · **model:** `{model}`"


CSS = """
.qa-sources { font-size: 0.92em; }
.qa-cite { border-left: 3px solid #3b82f6; padding: 4px 8px; margin: 6px 0; }
.qa-passage mark { background: #fde68a; padding: 0 2px; }
.qa-refusal { border-left: 3px solid #f59e0b; background: #fffbeb; padding: 6px 8px; }
.qa-msg-sources { margin-top: 6px; font-size: 0.9em; }
.qa-msg-sources .qa-cite.qa-active { background: #dbeafe; }
"""

# Clicking [n] in any answer opens that answer's own sources block and highlights its n-th quote.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[href*='#src-']");
  if (!link) return;
  event.preventDefault();
  const id = link.getAttribute("href").split("#").pop();
  const target = document.getElementById(id);
  if (!target) return;
  const block = target.closest("details");
  if (block) block.open = true;
  document.querySelectorAll(".qa-cite.qa-active").forEach((el) => el.classList.remove("qa-active"));
  target.classList.add("qa-active");
  target.scrollIntoView({block: "nearest"});
}, true);
</script>"""
