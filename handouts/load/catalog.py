"""Load and validate topic data: every topic, every language, checked against each other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from handouts.errors import ContentError, Problem, display_path
from handouts.limits import current as current_limits
from handouts.load import yamlio
from handouts.load.explain import validation_problems
from handouts.load.images import asset_problem, type_problem
from handouts.load.model import Block, Figure, Handout, LanguageFile, TopicMeta
from handouts.names import did_you_mean, is_slug, slug_rule

TOPIC_FILE = "topic.yaml"
#: Phrases each language must print (tests/test_shipped.py reads them); not a language file.
REQUIRED_FILE = "required.yaml"


@dataclass(frozen=True)
class Topic:
    """A topic with its shared metadata and its text in each language."""

    id: str
    folder: Path
    meta: TopicMeta
    languages: dict[str, LanguageFile]

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return the kinds of handout this topic has, in the source language's order."""
        return tuple(self.languages[self.meta.source_language].handouts)

    def handout(self, kind: str, lang: str) -> Handout:
        """Return one kind of handout in one language."""
        return self.languages[lang].handouts[kind]

    def translation_status(self, lang: str) -> str:
        """Return 'source', 'draft' or 'reviewed' for one language of this topic."""
        translation = self.languages[lang].translation
        return "source" if translation is None else translation.status


@dataclass
class Catalog:
    """Every topic of a workspace."""

    topics: dict[str, Topic] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics.values())

    @property
    def languages(self) -> tuple[str, ...]:
        """Return every language any topic has, sorted."""
        return tuple(sorted({lang for topic in self for lang in topic.languages}))

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return every kind of handout any topic has, sorted."""
        return tuple(sorted({kind for topic in self for kind in topic.kinds}))


def load_catalog(topics_dir: Path, root: Path | None = None, assets_dir: Path | None = None) -> Catalog:
    """Load every topic folder under topics_dir; collect all problems, then raise once.

    Figures name files in assets_dir (default: data/assets beside data/topics).
    """
    catalog = Catalog()
    problems: list[Problem] = []
    if not topics_dir.is_dir():
        raise ContentError([Problem(display_path(topics_dir, root), None, "", "topics folder not found")])
    for folder in sorted(p for p in topics_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            topic = load_topic(folder, root, assets_dir)
        except ContentError as exc:
            problems.extend(exc.problems)
        else:
            catalog.topics[topic.id] = topic
    if problems:
        raise ContentError(problems)
    return catalog


def load_topic(folder: Path, root: Path | None = None, assets_dir: Path | None = None) -> Topic:
    """Load one topic folder: topic.yaml and one <lang>.yaml per language."""
    problems: list[Problem] = []
    if not is_slug(folder.name):  # the name is the topic's id on the command line and in every output path
        problems.append(Problem(display_path(folder, root), None, "", slug_rule("topic", folder.name)))
    figures = _FigureFiles(assets_dir or folder.parent.parent / "assets", root)
    meta_doc = _parse(folder / TOPIC_FILE, root, problems)
    meta = _validate(TopicMeta, meta_doc, problems) if meta_doc else None
    docs: dict[str, yamlio.Document] = {}
    languages: dict[str, LanguageFile] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name in (TOPIC_FILE, REQUIRED_FILE):
            continue
        doc = _parse(path, root, problems)
        if doc is None:
            continue
        parsed = _validate(LanguageFile, doc, problems)
        if parsed is None:
            continue
        if parsed.language != path.stem:
            problems.append(doc.problem(("language",), f"'{parsed.language}' does not match the file name {path.name}"))
            continue
        docs[path.stem] = doc
        languages[path.stem] = parsed
        problems.extend(figures.problems(doc, parsed))
    if meta is not None and meta_doc is not None:
        source = meta.source_language
        if source not in languages:
            if not any(p.file.endswith(f"{source}.yaml") for p in problems):
                problems.append(meta_doc.problem(("source_language",), f"no {source}.yaml in {folder.name}/"))
        else:
            kinds = set(languages[source].handouts)
            for index, src in enumerate(meta.sources):
                for kind in src.kinds:
                    if kind not in kinds:
                        problems.append(meta_doc.problem(("sources", index, "kinds"), (
                            f"no handout of kind '{kind}' in {source}.yaml{did_you_mean(kind, kinds)}")))
            if languages[source].translation is not None:
                problems.append(docs[source].problem(
                    ("translation",), "the source language is not a translation; remove this block"))
            for lang, parsed in languages.items():
                if lang == source:
                    continue
                if parsed.translation is None:
                    problems.append(docs[lang].problem(("translation",), (
                        f"a translation needs a translation block (status: draft, translated_from: {source})")))
                problems.extend(compare_structure(docs[source], languages[source], docs[lang], parsed))
    if problems:
        raise ContentError(problems)
    assert meta is not None
    ordered = {meta.source_language: languages[meta.source_language]}
    ordered.update(sorted((k, v) for k, v in languages.items() if k != meta.source_language))
    return Topic(folder.name, folder, meta, ordered)


def _parse(path: Path, root: Path | None, problems: list[Problem]) -> yamlio.Document | None:
    try:
        return yamlio.load(path, root)
    except ContentError as exc:
        problems.extend(exc.problems)
        return None


def _validate(model: type[BaseModel], doc: yamlio.Document, problems: list[Problem]) -> Any:
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "expected a mapping of fields at the top of the file"))
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(validation_problems(doc, exc, model))
        return None


class _FigureFiles:
    """Checks each figure's file once per topic: inside data/assets/, an SVG, PNG or JPEG within the limits."""

    def __init__(self, assets: Path, root: Path | None) -> None:
        self.assets, self.root = assets, root
        self.limits = current_limits()
        self.seen: dict[str, str | None] = {}

    def problems(self, doc: yamlio.Document, parsed: LanguageFile) -> list[Problem]:
        """Return a problem for each figure of a language file whose file cannot be shown."""
        out = []
        for loc, figure in _figures(parsed):
            if figure.src not in self.seen:
                self.seen[figure.src] = self._problem(figure.src)
            problem = self.seen[figure.src]
            if problem:
                out.append(doc.problem((*loc, "figure", "src"), problem))
        return out

    def _problem(self, src: str) -> str | None:
        problem = asset_problem(src, self.assets, self.root, self.limits, "the figure")
        if problem:
            return problem
        path = self.assets / src
        kind = type_problem(path, path.read_bytes())
        return f"data/assets/{src}: {kind}" if kind else None


def _figures(parsed: LanguageFile) -> Iterator[tuple[tuple[str | int, ...], Figure]]:
    """Yield (field path of the block, figure) for every figure block of a language file."""
    for kind, handout in parsed.handouts.items():
        for group, attr in (("sections", "blocks"), ("faq", "answer")):
            for index, item in enumerate(getattr(handout, group)):
                for number, block in enumerate(getattr(item, attr)):
                    if block.figure is not None:
                        yield ("handouts", kind, group, index, attr, number), block.figure


# --- structure: every translation has the blocks of its source, in every length ---

def _shape(handout: Handout) -> dict[tuple[str | int, ...], tuple[tuple[str | int, ...], str]]:
    """Map each structural slot of a handout to (its field path, a description to compare)."""
    shape: dict[tuple[str | int, ...], tuple[tuple[str | int, ...], str]] = {}

    def blocks(key: tuple[str | int, ...], loc: tuple[str | int, ...], items: tuple[Any, ...]) -> None:
        for index, block in enumerate(items):
            shape[(*key, index)] = ((*loc, index), f"{_block_shape(block)} in {'/'.join(block.lengths)}")

    shape[("get_help_now",)] = (("get_help_now", "items"), f"{len(handout.get_help_now.items)} items")
    shape[("get_help_now", "note")] = (("get_help_now",), "a note" if handout.get_help_now.note else "no note")
    for name in ("call_today", "call_care_team", "questions"):
        box = getattr(handout, name)
        shown = f" in {'/'.join(box.lengths)}" if box is not None and hasattr(box, "lengths") else ""
        shape[(name,)] = ((name,), f"{len(box.items)} items{shown}" if box else "absent")
    for group, attr in (("sections", "blocks"), ("faq", "answer")):
        for index, item in enumerate(getattr(handout, group)):
            key = (group, item.id)
            shape[key] = ((group, index), f"in {'/'.join(item.lengths)}")
            blocks(key, (group, index, attr), getattr(item, attr))
    return shape


def _block_shape(block: Block) -> str:
    """Describe what a translation must keep of a block: its kind, list size, a figure's file and parts."""
    figure = block.figure
    if figure is not None:
        parts = [p for p in ("a caption" if figure.caption else "", f"a key of {len(figure.key)} items"
                             if figure.key else "") if p]
        return f"figure {figure.src}" + (f" with {' and '.join(parts)}" if parts else "")
    return block.kind if block.kind == "p" else f"{block.kind} of {len(getattr(block, block.kind))} items"


def compare_structure(
    source_doc: yamlio.Document, source: LanguageFile, doc: yamlio.Document, other: LanguageFile
) -> list[Problem]:
    """List every block a translation lacks, adds or shapes differently from its source."""
    problems: list[Problem] = []
    src_name = source_doc.path.name

    def report(loc: tuple[str | int, ...], label: str, message: str) -> None:
        problems.append(Problem(doc.shown, doc.line_of(loc), label, message))

    for kind, src_handout in source.handouts.items():
        base = ("handouts", kind)
        if kind not in other.handouts:
            report(("handouts",), f"handouts.{kind}", f"missing; {src_name} has this handout")
            continue
        mine = _shape(other.handouts[kind])
        theirs = _shape(src_handout)
        # a section (or question) missing or added is one mistake: its blocks are not listed again
        renamed = _renamed(theirs, mine)
        for key, (src_loc, want) in theirs.items():
            line = source_doc.line_of((*base, *src_loc))
            if key in renamed:
                ours = renamed[key]
                report((*base, *mine[ours][0], "id"), _label(base, ours), (
                    f"'{ours[1]}' is not an id in {src_name}, which has '{key[1]}' here ({src_name}:{line}); "
                    "ids are the same in every language"))
            elif key not in mine and key[:2] not in renamed and not (len(key) > 2 and key[:2] not in mine):
                report((*base, *_nearest(mine, key)), _label(base, key), f"missing; {src_name}:{line} has it")
            elif key in mine and mine[key][1] != want:
                report((*base, *mine[key][0]), _label(base, key), f"is {mine[key][1]}; {src_name} has {want}")
        added = set(renamed.values())
        for key, (loc, _) in mine.items():
            if key not in theirs and key[:2] not in added and not (len(key) > 2 and key[:2] not in theirs):
                report((*base, *loc), _label(base, key), f"not in {src_name}")
    for kind in other.handouts:
        if kind not in source.handouts:
            report(("handouts", kind), f"handouts.{kind}", f"not in {src_name}")
    return problems


Shape = dict[tuple[str | int, ...], tuple[tuple[str | int, ...], str]]


def _renamed(theirs: Shape, mine: Shape) -> dict[tuple[str | int, ...], tuple[str | int, ...]]:
    """Map each section (or question) of the source whose id the translation changed to the translation's:
    an id missing from one and added in the other at the same place of the list."""
    pairs: dict[tuple[str | int, ...], tuple[str | int, ...]] = {}
    for group in ("sections", "faq"):
        for key, (loc, _) in theirs.items():
            if len(key) != 2 or key[0] != group or key in mine:
                continue
            ours = next((k for k, (at, _) in mine.items() if len(k) == 2 and k[0] == group and at == loc), None)
            if ours is not None and ours not in theirs:
                pairs[key] = ours
    return pairs


def _nearest(mine: Shape, key: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Return the field path in the translation nearest to where a missing slot belongs: its section
    (or question), else the list of sections (or questions), else the box it is part of."""
    if len(key) > 2 and key[:2] in mine:
        return mine[key[:2]][0]
    return (key[0],)


def _label(base: tuple[str, ...], key: tuple[str | int, ...]) -> str:
    parts = [*base]
    rest = list(key)
    if rest and rest[0] in ("sections", "faq"):
        parts.append(f"{rest[0]}[id={rest[1]}]")
        rest = rest[2:]
        if rest:
            parts.append(f"block {int(rest[0]) + 1}")
    else:
        parts.extend(str(r) for r in rest)
    return ".".join(parts)
