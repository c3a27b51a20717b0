"""Where a rendered document's sections begin: the headings that give its sentences their context."""

from __future__ import annotations

import re

# a section heading: a Markdown heading (HTML and Markdown are rendered with these), or a short line in capitals
# as plain-text reports have them ("4. BRIDGE RENOVATION - PROGRESS REPORT")
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(\S[^\n]*)$", re.MULTILINE)
_CAPS_LINE = re.compile(r"^(?=[^\n]*[A-Z]{3})([^a-z\n]{2,79}[^a-z\n.])$", re.MULTILINE)


def headings(text: str) -> list[tuple[int, str]]:
    """(offset, text) of the section headings in ``text``, in order."""
    found = [(m.start(), m.group(1).strip(" #*")) for m in _MD_HEADING.finditer(text)]
    found += [(m.start(), m.group(1).strip()) for m in _CAPS_LINE.finditer(text) if len(m.group(1).split()) <= 12]
    return sorted(found)
