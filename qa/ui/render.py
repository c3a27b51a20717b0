"""HTML and Markdown for the chat: linked [n] markers, the sources panel, the corpus bar.

All document text is untrusted and is escaped before it is shown.
"""

from __future__ import annotations

import html
import re
import time

from qa.models import Answer, Citation, Passage

MARKER = re.compile(r"\[(\d{1,3})\]")


def linked_answer(answer: Answer) -> str:
    """Chat Markdown for an answer: markers link to the sources panel; refusals look different."""
    if answer.refused:
        return f"> ⚠️ **The sources do not say.**\n>\n> {_md_escape(answer.reason or 'No supporting passage was found.')}"
    body = _md_escape(answer.text)
    return MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#src-{m.group(1)})", body.replace("\\[", "[").replace("\\]", "]"))


def _md_escape(text: str) -> str:
    """Neutralise HTML and Markdown control characters in model/document text."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_{}()#+!|~>])", r"\\\1", text)


def _highlight(passage: Passage | None, c: Citation) -> str:
    if passage is None or not (passage.start <= c.start and c.end <= passage.end):
        return f"<mark>{html.escape(c.quote)}</mark>"
    a, b = c.start - passage.start, c.end - passage.start
    t = passage.text
    return f"{html.escape(t[:a])}<mark>{html.escape(t[a:b])}</mark>{html.escape(t[b:])}"


def sources_html(answer: Answer | None, show_evidence: bool = False) -> str:
    """The sources panel: each citation with file, title and the quote highlighted in its passage."""
    if answer is None:
        return "<div class='qa-sources qa-empty'>Sources of the answer appear here.</div>"
    parts = ["<div class='qa-sources'>"]
    if answer.refused:
        parts.append(f"<div class='qa-refusal'><b>No answer:</b> {html.escape(answer.reason or 'nothing relevant')}</div>")
    for c in answer.citations:
        passage = next((p for p in answer.evidence if p.source == c.source and p.start <= c.start and c.end <= p.end),
                       None)
        parts.append(
            f"<div class='qa-cite' id='src-{c.n}'><div class='qa-cite-head'><b>[{c.n}]</b> "
            f"<code>{html.escape(c.source)}</code> — <i>{html.escape(c.title)}</i></div>"
            f"<div class='qa-passage'>{_highlight(passage, c)}</div></div>"
        )
    if show_evidence and answer.evidence:
        parts.append("<details open><summary>All retrieved evidence</summary><ol>")
        for p in answer.evidence:
            parts.append(f"<li><code>{html.escape(p.source)}</code> score {p.score:.3f}: {html.escape(p.text)}</li>")
        parts.append("</ol></details>")
    parts.append("</div>")
    return "".join(parts)


def copy_text(answer: Answer | None) -> str:
    """The answer with its citations as plain text, for copying."""
    if answer is None:
        return ""
    lines = [answer.text]
    lines += [f'[{c.n}] {c.source} — "{c.quote}"' for c in answer.citations]
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
"""
