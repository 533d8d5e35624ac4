"""The quality gate behind `handouts check`: content, translations, reading level, pages, branding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handouts.check import readability
from handouts.compose.i18n import CatalogTranslations, translations
from handouts.compose.select import select
from handouts.errors import ContentError, HandoutsError, UsageError, display_path
from handouts.files import OutsideError, contained
from handouts.load.languages import font_stack
from handouts.load.workspace import Workspace
from handouts.vocabulary import DEFAULT_BRAND, LENGTHS, PAPERS

if TYPE_CHECKING:
    from handouts.jobs.pipeline import Builder
    from handouts.jobs.planning import Job
    from handouts.load.catalog import Topic
    from handouts.load.config import CheckSettings
    from handouts.render.contrast import TextColour

LEVELS = ("ok", "note", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One result of one check on one subject (a handout, a topic, a language or the brand)."""

    check: str
    level: str
    subject: str
    message: str
    details: tuple[str, ...] = ()


@dataclass
class CheckReport:
    """Every finding of one run, in the order the checks ran."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, check: str, level: str, subject: str, message: str, details: Sequence[str] = ()) -> None:
        """Record one finding."""
        self.findings.append(Finding(check, level, subject, message, tuple(details)))

    def count(self, level: str) -> int:
        """Return how many findings have this level."""
        return sum(f.level == level for f in self.findings)

    def passed(self, strict: bool = False) -> bool:
        """Return whether the gate passes: no errors, and with strict no warnings either."""
        return not self.count("error") and not (strict and self.count("warning"))

    def as_json(self) -> dict[str, Any]:
        """Return the report as plain data for tools."""
        return {
            "findings": [asdict(f) for f in self.findings],
            "summary": {level: self.count(level) for level in LEVELS},
        }


def run_checks(
    workspace: Workspace,
    topics: Sequence[str] = (),
    *,
    render: bool = True,
    large_print: bool = True,
    today: date | None = None,
    workers: int | None = None,
    fresh: bool = False,
) -> CheckReport:
    """Run every check on the workspace (or the named topics) and return what each found.

    Rendering checks lay handouts out in `workers` processes (default: the number of CPUs),
    reusing the layout facts that builds recorded unless fresh (then everything is laid out).
    """
    report = CheckReport()
    today = today or date.today()
    for check, load in (("config", lambda: workspace.config), ("schema", lambda: workspace.catalog)):
        try:
            load()
        except ContentError as exc:
            for problem in exc.problems:
                report.add(check, "error", problem.file, str(problem))
            return report
    config, catalog = workspace.config, workspace.catalog
    for name in topics:
        if name not in catalog.topics:
            raise UsageError(f"unknown topic '{name}'; available: {', '.join(sorted(catalog.topics))}")
    chosen = [catalog.topics[t] for t in (topics or sorted(catalog.topics))]
    settings = config.check

    for topic in chosen:
        source = topic.meta.source_language
        others = ", ".join(lang for lang in topic.languages if lang != source)
        report.add("schema", "ok", topic.id, f"valid; translations match {source}: {others}" if others
                   else f"valid; {source} only, no translations")
        _check_readability(report, topic, settings)
        _check_review(report, topic, today, settings.review_warning_days)
        _check_sources(report, topic)
    _check_brand(report, workspace, chosen)
    _check_styles(report, workspace)
    _check_glyphs(report, workspace, chosen)
    prints = (False, True) if large_print else (False,)
    if render:
        _check_pages_and_contrast(report, workspace, [t.id for t in chosen], prints, workers, fresh)
    else:
        report.add("pages", "note", "all", "page budgets and colour contrast not checked (--no-render)")
    for branded in _brands(report, workspace):
        _check_brand(report, branded, chosen)
        _check_brand_styles(report, branded)
        _check_glyphs(report, branded, chosen)
        if render:
            _check_pages_and_contrast(report, branded, [t.id for t in chosen], prints, workers, fresh)
    return report


def _brands(report: CheckReport, workspace: Workspace) -> list[Workspace]:
    """Return the workspace as each brand file sees it; report a brand file's problems as config errors."""
    from handouts.load.brands import brand_names

    try:
        names = brand_names(workspace)
    except ContentError as exc:
        for problem in exc.problems:
            report.add("config", "error", problem.file, str(problem))
        return []
    found = []
    for name in names:
        branded = workspace.for_brand(name)
        try:
            branded.config  # noqa: B018 - validates the brand file
        except ContentError as exc:
            for problem in exc.problems:
                report.add("config", "error", problem.file, str(problem))
            continue
        report.add("config", "ok", f"brand {name}", f"brands/{name}.yaml is valid")
        found.append(branded)
    return found


def _brand_subject(workspace: Workspace) -> str:
    """Return how findings name a brand: 'brand' for handouts.yaml's clinic, 'brand NAME' for a brand file's."""
    return "brand" if workspace.brand == DEFAULT_BRAND else f"brand {workspace.brand}"


def _brand_field(workspace: Workspace, loc: tuple[str, ...]) -> str:
    """Return ' (brands/NAME.yaml:LINE: FIELD)' naming where a brand file sets a field; '' for handouts.yaml."""
    from handouts.load.brands import field_line

    where = field_line(workspace, loc)
    return f" ({where})" if where else ""


def _check_readability(report: CheckReport, topic: Topic, settings: CheckSettings) -> None:
    limits = settings.readability
    for lang in topic.languages:
        if readability.has_formula(lang):
            readability.prepare((u for kind in topic.kinds for length in LENGTHS
                                 for u in readability.printed_units(select(topic, kind, length, lang))), lang)
    for kind in topic.kinds:
        for lang in topic.languages:
            if not readability.has_formula(lang):
                report.add("readability", "note", f"{topic.id} {kind} {lang}",
                           f"no readability formula for '{lang}'; not measured")
                continue
            for length in LENGTHS:
                subject = f"{topic.id} {kind} {length} {lang}"
                texts = readability.sentences(readability.printed_units(select(topic, kind, length, lang)))
                score = readability.score(texts, lang)
                hard = [f"{value:5.1f}  {text}" for value, text in
                        readability.hardest(texts, lang, settings.hardest_sentences)]
                if readability.base(lang) == "en":
                    limit = getattr(limits.en_max_grade, length)
                    ok = score.grade <= limit
                    message = (f"Flesch-Kincaid grade {score.grade:.1f} (max {limit:g}), "
                               f"SMOG {score.smog:.1f}")
                elif readability.base(lang) == "es":
                    limit = getattr(limits.es_min_ease, length)
                    ok = score.ease_es >= limit
                    message = f"Fernandez-Huerta {score.ease_es:.1f} (min {limit:g})"
                else:
                    name = readability.FORMULAS[readability.base(lang)]
                    report.add("readability", "note", subject,
                               f"{name} {score.value(lang):.1f} (measured; no limit set)", hard)
                    continue
                report.add("readability", "ok" if ok else "error", subject, message, hard)


def _check_review(report: CheckReport, topic: Topic, today: date, warn_days: int) -> None:
    review = topic.meta.review
    if review.status != "reviewed":
        report.add("review", "note", topic.id, "draft: not yet reviewed by a clinician")
    else:
        due = review.next_review_due
        # the schema requires both dates and the reviewer once the status is "reviewed"
        assert due is not None and review.reviewed_on is not None
        days = (due - today).days
        if days < 0:
            report.add("review", "error", topic.id, f"review overdue: next review was due {due.isoformat()}")
        elif days <= warn_days:
            report.add("review", "warning", topic.id, f"review due {due.isoformat()}, in {days} days")
        else:
            report.add("review", "ok", topic.id,
                       f"reviewed {review.reviewed_on.isoformat()} by {review.reviewed_by}; next due {due.isoformat()}")
    for lang in topic.languages:
        status = topic.translation_status(lang)
        if status == "draft":
            report.add("review", "note", f"{topic.id} {lang}",
                       "translation not yet checked by a qualified medical translator")
        elif status == "reviewed":
            tr = topic.languages[lang].translation
            assert tr is not None and tr.reviewed_on is not None  # the schema requires them when reviewed
            report.add("review", "ok", f"{topic.id} {lang}",
                       f"translation reviewed {tr.reviewed_on.isoformat()} by {tr.reviewed_by}")


def _check_sources(report: CheckReport, topic: Topic) -> None:
    insecure = [s.url for s in topic.meta.sources if not s.url.startswith("https://")]
    for url in insecure:
        report.add("sources", "warning", topic.id, f"source URL is not https: {url}")
    if not insecure:
        count = len(topic.meta.sources)
        report.add("sources", "ok", topic.id, f"{count} sources, each with title, publisher and https URL")
    unopened = [s.url for s in topic.meta.sources if s.accessed is None]
    if unopened:
        report.add("sources", "note", topic.id,
                   f"{len(unopened)} sources have no accessed date: a reviewer must open them ({', '.join(unopened)})")


def _check_brand(report: CheckReport, workspace: Workspace, topics: Sequence[Topic]) -> None:
    from handouts.render.glyphs import declared_fonts, font_problem

    clinic = workspace.config.clinic
    subject = _brand_subject(workspace)
    if clinic.logo:
        path, folder = workspace.logo_file(clinic.logo)
        shown = display_path(path, workspace.root)
        problem = _image_problem(path, folder) or _drawing_problem(workspace, path)
        if problem:
            report.add("branding", "error", subject, f"logo {shown}: {problem}")
        else:
            report.add("branding", "ok", subject, f"logo {shown} is a readable image")
    if clinic.footer is not None:
        missing, instead = clinic.footer_fallbacks({lang for topic in topics for lang in topic.languages})
        if missing:
            report.add("branding", "warning", subject,
                       f"clinic.footer: no text for {', '.join(missing)}; those handouts print {instead}"
                       f"{_brand_field(workspace, ('clinic', 'footer'))}")
        else:
            report.add("branding", "ok", subject, "clinic.footer has a line in every language")
    style_dirs = workspace.search_path("styles")
    families = declared_fonts(style_dirs)
    if clinic.font not in families:
        declared = ", ".join(families) or "none"
        report.add("branding", "error", subject,
                   f"font '{clinic.font}' is not declared in styles/fonts.css (declared: {declared})"
                   f"{_brand_field(workspace, ('clinic', 'font'))}")
    else:
        problems = [p for p in (font_problem(f, style_dirs, workspace.root) for f in families[clinic.font]) if p]
        if problems:
            report.add("branding", "error", subject, f"font '{clinic.font}': {'; '.join(problems)}")
        else:
            report.add("branding", "ok", subject, f"font '{clinic.font}' is declared and its files exist")


def _check_styles(report: CheckReport, workspace: Workspace) -> None:
    """Report CSS that WeasyPrint would ignore (stylesheets and templates' <style>), one error per problem."""
    from handouts.render.stylecheck import style_problems

    problems = style_problems(workspace)
    for problem in problems:
        report.add("styles", "error", problem.file, str(problem))
    if not problems:
        report.add("styles", "ok", "styles", "the stylesheets and templates' <style> elements have no CSS errors")


def _check_brand_styles(report: CheckReport, workspace: Workspace) -> None:
    """Report the CSS problems of a brand's own styles and templates (the shared ones are reported once)."""
    from handouts.render.stylecheck import style_problems

    reported = {f.message for f in report.findings if f.check == "styles"}
    for problem in style_problems(workspace):
        if str(problem) not in reported:
            report.add("styles", "error", problem.file, str(problem))


def _image_problem(path: Path, folder: Path) -> str | None:
    """Return why an image file cannot be used as a logo, or None."""
    from handouts.limits import current as current_limits
    from handouts.load.images import limits_problem, type_problem

    try:
        real = contained(path, folder)
    except OutsideError as exc:
        return exc.reason
    return limits_problem(real, current_limits()) or type_problem(path, real.read_bytes())


def _drawing_problem(workspace: Workspace, path: Path) -> str | None:
    """Draw an image the way a handout does (same fetcher, same rules); return why it cannot be, or None.

    An SVG image is drawn only when the PDF is written, and WeasyPrint leaves out one whose
    references it refuses; only drawing it tells.
    """
    from html import escape

    from handouts.errors import display_path
    from handouts.render.pdf import Renderer

    renderer = Renderer(workspace.search_path("styles"), workspace.asset_roots(), workspace.root)
    html = f'<html lang="en"><title>logo</title><img src="{escape(path.resolve().as_uri())}" alt="logo"></html>'
    try:
        renderer.render(html, workspace.root, fonts=())
    except HandoutsError as exc:
        line = "; ".join(exc.lines())
        prefix = f"{display_path(path, workspace.root)}: "
        return line.removeprefix(prefix)
    return None


def language_texts(workspace: Workspace, topics: Sequence[Any], lang: str) -> list[str]:
    """Return every string a handout in lang can print: content, template strings, clinic lines."""
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for topic in topics:
        if lang in topic.languages:
            walk(topic.languages[lang].model_dump(mode="json"))
            walk([(s.title, s.publisher, s.url) for s in topic.meta.sources])
    catalog = translations(lang)
    if isinstance(catalog, CatalogTranslations):  # English has no catalog: its strings are the templates'
        texts.extend(catalog.strings())
    clinic = workspace.config.clinic
    texts.extend(t for t in (clinic.name, clinic.phone, clinic.address, clinic.website, clinic.footer_for(lang)) if t)
    return texts


def _check_glyphs(report: CheckReport, workspace: Workspace, topics: Sequence[Any]) -> None:
    from handouts.render.glyphs import declared_fonts, describe, font_problem, missing_chars

    style_dirs = workspace.search_path("styles")
    families = declared_fonts(style_dirs)
    usable = {path for paths in families.values() for path in paths if font_problem(path, style_dirs) is None}
    langs = sorted({lang for topic in topics for lang in topic.languages})
    for lang in langs:
        stack = font_stack(lang, workspace.config.clinic.font)
        files = [path for family in stack for path in families.get(family, []) if path in usable]
        names = " + ".join(f for f in stack if f in families)
        missing = missing_chars(language_texts(workspace, topics, lang), files)
        subject = lang if workspace.brand == DEFAULT_BRAND else f"{lang} for {workspace.brand}"
        if missing:
            report.add("glyphs", "error", subject,
                       f"{len(missing)} characters not in the fonts ({names}): {describe(missing)}")
        else:
            report.add("glyphs", "ok", subject, f"the fonts ({names}) cover every character")


def _check_pages_and_contrast(
    report: CheckReport, workspace: Workspace, topics: Sequence[str], large_print: Sequence[bool],
    workers: int | None = None, fresh: bool = False,
) -> None:
    from handouts.cache import Digests, cache_dir
    from handouts.jobs.batch import Keys
    from handouts.jobs.executor import run_jobs
    from handouts.jobs.facts import FactsCache, LayoutFacts
    from handouts.jobs.planning import plan
    from handouts.load.summary import DIGESTS
    from handouts.render.contrast import format_ratio

    jobs = plan(workspace, topics=topics, papers=PAPERS, large_print=large_print, validated=True)
    if workspace.brand != DEFAULT_BRAND:
        from dataclasses import replace

        jobs = [replace(job, brand=workspace.brand) for job in jobs]
    digests = Digests(cache_dir(workspace.root) / DIGESTS)
    keys = {job: key for job, key in zip(jobs, map(Keys(workspace, digests).key, jobs), strict=True)}
    cache = FactsCache(workspace)
    # Handouts a build (or an earlier check) laid out from exactly these inputs are not laid out again.
    found: dict[Any, LayoutFacts | str] = {}
    for job in jobs:
        known = None if fresh else cache.get(keys[job])
        if known is not None:
            found[job] = known
    todo = [job for job in jobs if job not in found]
    try:
        for job, pages, error, measured in run_jobs(workspace, _layout_facts, todo, _layout_died, workers):
            if error is None:
                laid = LayoutFacts(pages, tuple(measured))
                found[job] = laid
                cache.add(keys[job], laid)
            else:
                found[job] = error
    except HandoutsError as exc:  # no Builder: the templates or styles cannot be loaded at all
        report.add("pages", "error", "all", "; ".join(exc.lines()))
        return
    finally:
        cache.save()
        digests.save()
    if len(todo) < len(jobs):
        report.add("pages", "note", "all", f"laid out {len(todo)} of {len(jobs)} handouts; the others' pages and "
                   "colours come from builds of exactly the same inputs")
    colours: dict[tuple[str, str], Any] = {}
    for job in jobs:
        subject, facts = str(job), found[job]
        if not isinstance(facts, LayoutFacts):
            report.add("pages", "error", subject, facts)
            continue
        budget, rule = job.budget, job.budget_rule
        over = facts.pages - budget
        if over > 0:
            report.add("pages", "error", subject, f"{facts.pages} pages, {over} over the {job.length} budget ({rule})")
        else:
            report.add("pages", "ok", subject, f"{facts.pages} page{'s' if facts.pages != 1 else ''} ({rule})")
        for colour in facts.colours:
            colours.setdefault((colour.fg, colour.bg), colour)
    set_by = {getattr(workspace.config.clinic.colors, name).lower(): name for name in ("accent", "primary")}
    for colour in sorted(colours.values(), key=lambda c: c.ratio):
        size = f"{colour.size_pt:g} pt{' bold' if colour.bold else ''}"
        message = (f"text {colour.fg} on {colour.bg}: {format_ratio(colour.ratio)} at {size} "
                   f"(WCAG AA needs {colour.needed:g}:1), e.g. '{colour.sample}'")
        passed = colour.ratio >= colour.needed
        if not passed and colour.fg.lower() in set_by:  # say where a brand file sets the colour
            message += _brand_field(workspace, ("clinic", "colors", set_by[colour.fg.lower()]))
        report.add("contrast", "ok" if passed else "error", _brand_subject(workspace), message)


def _layout_facts(builder: Builder, job: Job) -> tuple[Job, int, str | None, list[TextColour]]:
    """Lay out one handout (in a worker): its pages, or why it failed, and its text colours.

    Colours are read from the detailed Letter handouts in normal print, which show every kind of box.
    """
    from handouts.jobs.facts import wants_colours
    from handouts.jobs.pipeline import deadline, failure
    from handouts.limits import current
    from handouts.render.contrast import text_colours

    try:
        with deadline(current()):
            document = builder.layout(job)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - one bad handout is one error row; the report goes on
        return job, 0, failure(exc), []
    return job, len(document.pages), None, text_colours(document) if wants_colours(job) else []


def _layout_died(job: Job, why: str) -> tuple[Job, int, str | None, list[TextColour]]:
    return job, 0, why, []


def format_report(report: CheckReport, *, verbose: bool = False, problems_only: bool = False) -> str:
    """Return the report as a readable table, then a summary line."""
    rows = [f for f in report.findings if not problems_only or f.level in ("warning", "error")]
    if not rows:
        return f"No warnings or errors; {report.count('ok')} checks passed, {report.count('note')} notes."
    width_check = max([len("CHECK"), *(len(f.check) for f in rows)])
    width_subject = max([len("SUBJECT"), *(len(f.subject) for f in rows)])
    lines = [f"{'CHECK':<{width_check}}  {'RESULT':<7}  {'SUBJECT':<{width_subject}}  DETAIL"]
    for f in rows:
        result = f.level.upper() if f.level in ("warning", "error") else f.level
        lines.append(f"{f.check:<{width_check}}  {result:<7}  {f.subject:<{width_subject}}  {f.message}")
        if f.details and (verbose or f.level == "error"):
            lines.append(" " * (width_check + 11) + "hardest sentences (score, sentence):")
            lines.extend(" " * (width_check + 13) + d for d in f.details)
    counts = ", ".join(f"{report.count(level)} {level}{'s' if report.count(level) != 1 else ''}"
                       for level in ("error", "warning", "note"))
    lines.append("")
    lines.append(f"{counts}; {report.count('ok')} passed.")
    return "\n".join(lines)
