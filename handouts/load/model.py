"""The content schema: what a topic and one language's handouts may contain."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from handouts.load.languages import LanguageCodeError, check_code
from handouts.names import SLUG_PATTERN
from handouts.vocabulary import LENGTHS, Length

_LENGTHS = LENGTHS

#: The most characters one text (a paragraph, an item, a title) may have: a handout is read on paper.
MAX_TEXT = 20_000
#: The most items one list (bullets, steps, blocks, sections, questions) may have.
MAX_ITEMS = 100

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


def _language(value: str) -> str:
    try:
        return check_code(value)
    except LanguageCodeError as exc:
        raise ValueError(str(exc)) from None


LanguageCode = Annotated[str, AfterValidator(_language)]

_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")


def _icd10(value: str) -> str:
    value = value.strip().upper()
    if not _ICD10.match(value):
        raise ValueError(f"'{value}' is not an ICD-10-CM code (like M54.31)")
    return value


IcdCode = Annotated[str, AfterValidator(_icd10)]


class Strict(BaseModel):
    """Base model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tiered(Strict):
    """A block that appears only in some lengths (all of them unless listed)."""

    lengths: tuple[Length, ...] = Field(_LENGTHS, min_length=1)

    @field_validator("lengths")
    @classmethod
    def _canonical_lengths(cls, lengths: tuple[Length, ...]) -> tuple[Length, ...]:
        twice = sorted({x for x in lengths if lengths.count(x) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed twice")
        return tuple(x for x in _LENGTHS if x in lengths)

    def shows(self, length: str) -> bool:
        """Return whether this block appears in a handout of this length."""
        return length in self.lengths


class Figure(Strict):
    """A picture from data/assets/ (SVG, PNG or JPEG): what it shows in words, a caption, a key.

    A drawing's words would not be in the PDF's text layer and would need one drawing per
    language, so drawings carry numbered callouts (1, 2, 3 ...) and `key` says what each number
    points at, as text in each language, printed as a numbered list under the caption.
    """

    src: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] = Field(
        description="a file in data/assets/, e.g. sciatic-nerve.svg"
    )
    alt: Text | None = Field(None, description="what the picture shows, for screen readers (required)")
    caption: Text | None = None
    key: tuple[Text, ...] | None = Field(
        default=None, min_length=1, max_length=MAX_ITEMS, description="what callouts 1, 2, 3 ... point at"
    )

    @model_validator(mode="after")
    def _has_alt(self) -> Figure:
        if self.alt is None:
            raise ValueError("alt: required: say in words what the picture shows (screen readers read it aloud)")
        return self

    @property
    def url(self) -> str:
        """Return the picture's address relative to the workspace folder, which every handout's links start from."""
        return "data/assets/" + quote(self.src)


class Block(Tiered):
    """A paragraph (p), a bullet list (ul), a numbered list of steps (ol) or a picture (figure)."""

    p: Text | None = None
    ul: tuple[Text, ...] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    ol: tuple[Text, ...] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    figure: Figure | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Block:
        given = [name for name in ("p", "ul", "ol", "figure") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a block needs exactly one of p (paragraph), ul (bullets), ol (steps) or figure")
        return self

    @property
    def kind(self) -> str:
        """Return 'p', 'ul', 'ol' or 'figure'."""
        return next(name for name in ("p", "ul", "ol", "figure") if getattr(self, name) is not None)


def _no_empty_length(lengths: tuple[str, ...], blocks: tuple[Block, ...]) -> None:
    empty = [length for length in lengths if not any(b.shows(length) for b in blocks)]
    if empty:
        raise ValueError(f"shown in {', '.join(empty)} but none of its blocks is; it would print empty")


class Section(Tiered):
    """A headed part of a handout."""

    id: Slug
    heading: Text
    blocks: tuple[Block, ...] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _not_empty(self) -> Section:
        _no_empty_length(self.lengths, self.blocks)
        return self


class FaqItem(Tiered):
    """One question a patient asks, with its answer."""

    id: Slug
    question: Text
    answer: tuple[Block, ...] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _not_empty(self) -> FaqItem:
        _no_empty_length(self.lengths, self.answer)
        return self


class WarningBox(Strict):
    """The "get help now" box: shown at every length, never split across pages."""

    intro: Text
    items: tuple[Text, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    note: Text | None = None


class ListBox(Tiered):
    """A short list with an optional lead-in, e.g. "call your care team if"."""

    intro: Text | None = None
    items: tuple[Text, ...] = Field(min_length=1, max_length=MAX_ITEMS)


class UrgentBox(Strict):
    """The "call your care team today" box: same-day signs, shown at every length like the emergency box."""

    intro: Text | None = None
    items: tuple[Text, ...] = Field(min_length=1, max_length=MAX_ITEMS)


class Handout(Strict):
    """One kind of handout (overview, faq, caution) in one language."""

    title: Text
    summary: Text
    get_help_now: WarningBox
    sections: tuple[Section, ...] = Field((), max_length=MAX_ITEMS)
    faq: tuple[FaqItem, ...] = Field((), max_length=MAX_ITEMS)
    call_today: UrgentBox | None = None
    call_care_team: ListBox | None = None
    questions: ListBox | None = None

    @model_validator(mode="after")
    def _has_body(self) -> Handout:
        if not self.sections and not self.faq:
            raise ValueError("a handout needs sections or faq items")
        ids = [s.id for s in self.sections] + [f.id for f in self.faq]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"id used twice: {', '.join(dupes)}")
        return self


Status = Literal["draft", "reviewed"]


class _Reviewed(Strict):
    status: Status
    reviewed_by: Text | None = None
    reviewed_on: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _Reviewed:
        named = self.reviewed_by is not None or self.reviewed_on is not None
        if self.status == "reviewed" and (self.reviewed_by is None or self.reviewed_on is None):
            raise ValueError("status reviewed needs reviewed_by and reviewed_on")
        if self.status == "draft" and named:
            raise ValueError("a draft has no reviewer or review date; set status: reviewed")
        return self


class Review(_Reviewed):
    """Clinical review of a topic's content. Never filled in by us: a clinic's clinician signs."""

    next_review_due: date | None = None

    @model_validator(mode="after")
    def _due(self) -> Review:
        if self.status == "reviewed" and self.next_review_due is None:
            raise ValueError("status reviewed needs next_review_due")
        if self.next_review_due and self.reviewed_on and self.next_review_due <= self.reviewed_on:
            raise ValueError("next_review_due must come after reviewed_on")
        return self


class TranslationReview(_Reviewed):
    """Review of one translation by a qualified medical translator."""

    translated_from: LanguageCode


class Source(Strict):
    """Where the facts come from."""

    title: Text
    publisher: Text
    short: Text | None = Field(None, description="a short name for the publisher, e.g. NINDS, for brief handouts")
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
    accessed: date | None = Field(None, description="when someone opened the page; leave it out until someone has")
    kinds: tuple[Slug, ...] = Field((), description="cited only by these kinds of handout; default all")

    @property
    def short_name(self) -> str:
        """Return the publisher's short name, or its full name."""
        return self.short or self.publisher


HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://\S+$")]


class TopicMeta(Strict):
    """topic.yaml: what is the same in every language."""

    name: Text
    links: dict[LanguageCode, HttpsUrl] = Field(
        default_factory=dict,
        description="a trusted web page on the topic per language, printed as a QR code",
    )
    source_language: LanguageCode
    codes: tuple[IcdCode, ...] = Field(min_length=1)
    updated_on: date
    review: Review
    sources: tuple[Source, ...] = Field(min_length=1)


class LanguageFile(Strict):
    """<lang>.yaml: one language's text for every kind of handout of a topic."""

    language: LanguageCode
    translation: TranslationReview | None = None
    handouts: dict[Slug, Handout] = Field(min_length=1)
