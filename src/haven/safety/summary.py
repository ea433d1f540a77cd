"""A child-readable summary of a terms-of-service version, generated from its Markdown.

Each section keeps its heading and the first sentence of each clause, with emphasis and clause
numbers removed and long sentences cut at their first clause break; the reading grade of the
result (Flesch-Kincaid, English) is given so an operator can see whether it reads at the age
their users are. Deterministic: the same version always gives the same summary, so the summary
of every version sits beside it at `/safety/terms/<version>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSE = re.compile(r"^\s*\d+(\.\d+)*\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Section:
    heading: str
    points: tuple[str, ...]


def _plain(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*\s*", "", text)  # a bold lead-in is a label, not content
    text = re.sub(r"[*_`]", "", text)
    return " ".join(text.split())


def _short(sentence: str, limit: int = 160) -> str:
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(",", 1)[0].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "."


def summarise(markdown: str) -> list[Section]:
    sections: list[Section] = []
    heading: str | None = None
    points: list[str] = []
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph and heading is not None:
            text = " ".join(paragraph)
            if _CLAUSE.match(text):
                first = _SENTENCE.split(_plain(_CLAUSE.sub("", text)))[0]
                if first:
                    points.append(_short(first))
        paragraph.clear()

    for line in [*markdown.splitlines(), ""]:
        if line.startswith("## "):
            flush_paragraph()
            if heading is not None and points:
                sections.append(Section(heading, tuple(points)))
            heading, points = _CLAUSE.sub("", line[3:].strip()).rstrip("."), []
        elif not line.strip():
            flush_paragraph()
        elif not line.startswith("#"):
            paragraph.append(line.strip())
    if heading is not None and points:
        sections.append(Section(heading, tuple(points)))
    return sections


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    n = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, n)


def reading_grade(sections: list[Section]) -> float:
    """Flesch-Kincaid grade level of the summary's points (English text)."""
    text = " ".join(p for s in sections for p in s.points)
    sentences = max(1, len(_SENTENCE.split(text)))
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return 0.0
    syll = sum(_syllables(w) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * syll / len(words) - 15.59, 1)
