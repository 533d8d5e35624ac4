"""Choose what one handout shows for a length and a language: the view the templates read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handouts.compose.i18n import format_date, format_month
from handouts.load.catalog import Topic
from handouts.load.languages import text_direction
from handouts.load.model import Block, FaqItem, ListBox, Section, Source, UrgentBox, WarningBox


@dataclass(frozen=True)
class ShownSection:
    """A section with only the blocks this length shows."""

    id: str
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ShownFaq:
    """A question with only the answer blocks this length shows."""

    id: str
    question: str
    answer: tuple[Block, ...]


@dataclass(frozen=True)
class View:
    """Everything a template needs for one handout; plain values, nothing to call."""

    topic: str
    kind: str
    length: str
    lang: str
    dir: str
    title: str
    summary: str
    get_help_now: WarningBox
    sections: tuple[ShownSection, ...]
    faq: tuple[ShownFaq, ...]
    call_today: UrgentBox | None
    call_care_team: ListBox | None
    questions: ListBox | None
    sources: tuple[Source, ...]
    codes: tuple[str, ...]
    draft: bool
    reviewed_by: str | None
    reviewed_on: str | None
    next_review_due: str | None
    updated: str
    updated_iso: str
    translation_draft: bool
    source_language: str


def select(topic: Topic, kind: str, length: str, lang: str) -> View:
    """Build the view of one handout of a topic at one length in one language."""
    handout = topic.handout(kind, lang)
    review = topic.meta.review
    translation = topic.languages[lang].translation

    def when(value: date | None) -> str | None:
        return format_date(value, lang) if value else None

    return View(
        topic=topic.id,
        kind=kind,
        length=length,
        lang=lang,
        dir=text_direction(lang),
        title=handout.title,
        summary=handout.summary,
        get_help_now=handout.get_help_now,
        sections=tuple(_section(s, length) for s in handout.sections if s.shows(length)),
        faq=tuple(_faq(f, length) for f in handout.faq if f.shows(length)),
        call_today=handout.call_today,
        call_care_team=_box(handout.call_care_team, length),
        questions=_box(handout.questions, length),
        sources=tuple(s for s in topic.meta.sources if not s.kinds or kind in s.kinds),
        codes=topic.meta.codes,
        draft=review.status != "reviewed",
        reviewed_by=review.reviewed_by,
        reviewed_on=when(review.reviewed_on),
        next_review_due=when(review.next_review_due),
        updated=format_month(topic.meta.updated_on, lang),
        updated_iso=topic.meta.updated_on.isoformat(),
        translation_draft=translation is not None and translation.status != "reviewed",
        source_language=topic.meta.source_language,
    )


def _blocks(blocks: tuple[Block, ...], length: str) -> tuple[Block, ...]:
    return tuple(b for b in blocks if b.shows(length))


def _section(section: Section, length: str) -> ShownSection:
    return ShownSection(section.id, section.heading, _blocks(section.blocks, length))


def _faq(item: FaqItem, length: str) -> ShownFaq:
    return ShownFaq(item.id, item.question, _blocks(item.answer, length))


def _box(box: ListBox | None, length: str) -> ListBox | None:
    return box if box is not None and box.shows(length) else None
