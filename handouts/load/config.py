"""The workspace config file (handouts.yaml): the clinic's brand and build defaults."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StringConstraints, ValidationError

from handouts.errors import ContentError, Problem
from handouts.limits import current as current_limits
from handouts.load import yamlio
from handouts.load.explain import validation_problems
from handouts.load.images import asset_problem
from handouts.load.model import LanguageCode, Strict, Text
from handouts.names import did_you_mean
from handouts.printing.cups import QUEUE_PATTERN
from handouts.vocabulary import Paper

_HEX = re.compile(r"^#?[0-9a-fA-F]{6}$")
#: The colour every message shows as the example.
EXAMPLE_COLOR = "#0b5d4b"


def _color(value: object) -> str:
    """Return a colour written "#rrggbb", or say how to write it (YAML reads an unquoted # as a comment)."""
    example = f'like "{EXAMPLE_COLOR}"'
    if value is None:
        raise ValueError(f"put colours in quotes, {example} (YAML reads an unquoted # as the start of a comment)")
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"put colours in quotes, {example} (YAML read {value} as a number)")
    if not (_HEX.fullmatch(value) and value.startswith("#")):
        mended = f'like "#{value}"' if _HEX.fullmatch(value) else example
        raise ValueError(f"'{value}' is not a colour; write # and six hex digits, {mended}")
    return value


HexColor = Annotated[str, BeforeValidator(_color)]
FontFamily = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,62}$")]


class Colors(Strict):
    """Brand colours. Text colours must stay readable on white (checked by `handouts check`)."""

    primary: HexColor = Field("#1d4e89", description="headings, header rule, box borders")
    accent: HexColor = Field("#a61b1b", description="the get-help-now box border and heading")


class Clinic(Strict):
    """Who the handout comes from: printed in the header and footer, and the PDF author."""

    name: Text
    logo: Text | None = Field(None, description="path inside data/assets/, SVG, PNG or JPEG")
    logo_alt: Text | None = Field(None, description="alt text for the logo; default: the clinic name")
    phone: Text | None = None
    address: Text | None = None
    website: Text | None = None
    footer: Text | dict[LanguageCode, Text] | None = Field(
        None, description="one extra line at the foot of each page; or one per language: {en: ..., es: ...}"
    )
    colors: Colors = Colors()
    font: FontFamily = Field("Noto Sans", description="a family from styles/fonts.css")
    handout_url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")] | None = Field(
        None,
        description="the clinic's page for each handout, printed as a QR code; may use {topic}, {kind} and {lang}",
    )


    def footer_fallbacks(self, langs: Iterable[str]) -> tuple[list[str], str]:
        """Return which of langs have no footer line of their own, and which line they print instead.

        A single line counts as no line of its own for every language but English.
        """
        if self.footer is None:
            return [], ""
        if isinstance(self.footer, str):
            return sorted(lang for lang in langs if lang.split("-")[0] != "en"), "the one line given for all languages"
        missing = sorted(lang for lang in langs if lang not in self.footer and lang.split("-")[0] not in self.footer)
        used = "en" if "en" in self.footer else next(iter(self.footer))
        return missing, f"the {used} line"

    def footer_for(self, lang: str) -> str | None:
        """Return the footer line in lang, else in English, else the first one given."""
        if self.footer is None or isinstance(self.footer, str):
            return self.footer
        base = lang.split("-")[0]
        found = self.footer.get(lang) or self.footer.get(base) or self.footer.get("en")
        return found or next(iter(self.footer.values()))


class Defaults(Strict):
    """What a build uses when a command does not say."""

    paper: Paper = "letter"
    reviewed_only: StrictBool = Field(
        False, description="build only content a clinician and (for translations) a medical translator reviewed"
    )
    patient_box: Literal["write-in", "omit"] = Field(
        "omit",
        description="without patient fields: leave the 'For you' box out, or print blank lines to write on "
        "(needs about three lines of room: the shipped one-page handouts have none to spare)",
    )


class PerLength(Strict):
    """One limit for each length."""

    brief: float
    standard: float
    detailed: float


class ReadabilityLimits(Strict):
    """Reading-level limits, per length (see README: the quality gate)."""

    en_max_grade: PerLength = Field(
        PerLength(brief=6.5, standard=6.5, detailed=8),
        description="English: highest Flesch-Kincaid grade (AMA/NIH advise about grade 6)",
    )
    es_min_ease: PerLength = Field(
        PerLength(brief=70, standard=70, detailed=60),
        description="Spanish: lowest Fernandez-Huerta score (70-80 is about grade 6)",
    )


class CheckSettings(Strict):
    """Settings of `handouts check`."""

    readability: ReadabilityLimits = ReadabilityLimits()
    review_warning_days: int = Field(60, ge=0, description="warn when a review falls due this soon")
    hardest_sentences: int = Field(3, ge=0, le=20, description="how many hard sentences to list")


def _queue_name(value: str) -> str:
    if not re.fullmatch(QUEUE_PATTERN, value):
        raise ValueError("a CUPS queue name has letters, digits and _ . @ + - only, and no dash first "
                         "(lpstat -p lists the queues)")
    return value


class Printer(Strict):
    """One of the clinic's printers: `handouts print --printer` and the page's print button offer these."""

    queue: Annotated[str, AfterValidator(_queue_name)] = Field(
        description="the CUPS queue name, as `lpstat -p` lists it"
    )
    name: Text = Field(description="what a desk sees and picks, e.g. Front desk (ground floor)")


class Config(Strict):
    """The whole handouts.yaml."""

    clinic: Clinic
    defaults: Defaults = Defaults()
    check: CheckSettings = CheckSettings()
    printers: list[Printer] = Field([], description="the clinic's printers; the first is the default")


class BrandConfig(Strict):
    """A brand file (brands/<name>.yaml): one clinic, as in handouts.yaml."""

    clinic: Clinic


def load_config(path: Path, root: Path | None = None, fonts: Sequence[str] | None = None) -> Config:
    """Read and validate handouts.yaml; raise ContentError listing every problem.

    fonts: the families styles/fonts.css declares, which clinic.font must be one of (None: not checked).
    """
    doc = yamlio.load(path, root)
    if not isinstance(doc.data, dict):
        raise ContentError([doc.problem((), "expected a mapping of fields at the top of the file")])
    font = _font_problem(doc, fonts)
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        problems = validation_problems(doc, exc, Config)
        if font is not None:  # the family's name is wrong, whatever its form: say which ones there are
            problems = [p for p in problems if p.field != "clinic.font"] + [font]
        raise ContentError(problems) from None
    problems = [font] if font is not None else []
    if config.clinic.logo is not None:
        assets = path.parent / "data" / "assets"
        problem = asset_problem(config.clinic.logo, assets, root, current_limits(), "the logo")
        if problem:
            problems.append(doc.problem(("clinic", "logo"), problem))
    problems.extend(_printer_problems(doc, config.printers))
    if problems:
        raise ContentError(problems)
    return config


def _font_problem(doc: yamlio.Document, fonts: Sequence[str] | None) -> Problem | None:
    """Return the problem with clinic.font when it is not a family fonts.css declares, or None."""
    clinic = doc.data.get("clinic")
    font = clinic.get("font") if isinstance(clinic, dict) else None
    if fonts is None or not isinstance(font, str) or font in fonts:
        return None
    hint = did_you_mean(font, fonts) or (f"; the families there are {', '.join(fonts)}" if fonts else "")
    return doc.problem(("clinic", "font"), f"'{font}' is not a font family in styles/fonts.css{hint}")


def _printer_problems(doc: yamlio.Document, printers: list[Printer]) -> list[Problem]:
    """Return a problem for each printer queue or name given twice (a desk could not tell them apart)."""
    problems: list[Problem] = []
    seen: dict[str, set[str]] = {"queue": set(), "name": set()}
    for index, printer in enumerate(printers):
        for field in ("queue", "name"):
            value = getattr(printer, field)
            if value.casefold() in seen[field]:
                problems.append(doc.problem(("printers", index, field), f"{value!r} is listed twice"))
            seen[field].add(value.casefold())
    return problems

