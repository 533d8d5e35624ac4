"""What the web page asks of the engine: the catalog to search, choices checked, handouts made.

A door like the command line: every choice is checked against the validated catalog (a request's
words pick among known names and never become a path), the review gate is handouts.commands.gate,
and the rule of "changed" is the one every cache follows (handouts.cache): before each request the
inputs are digested again (cheaply: a file whose size, times and inode are unchanged is not read),
and the keys of outputs (handouts.jobs.batch.Keys) cover every input, so no answer kept in memory
or read from output/ can be older than the workspace.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handouts.cache import Digests
from handouts.errors import HandoutsError, UsageError
from handouts.jobs.planning import Job
from handouts.load.brands import brands_dir
from handouts.load.workspace import Workspace
from handouts.serve.pool import Made, RenderPool
from handouts.serve.pool import make as _make
from handouts.serve.pool import make_packet as _packet
from handouts.serve.pool import rasterize as _rasterize
from handouts.vocabulary import DEFAULT_BRAND, LENGTHS, PAGE_BUDGET, PAPERS

#: Handouts (PDF and page images) kept in memory, by their key; patient handouts never are.
KEPT = 48

#: The state one request saw: each request checks the workspace once, when it first asks, and keeps
#: that answer to its end (the app sets it to None as each request starts).
seen: ContextVar[tuple[State, Any] | None] = ContextVar("handouts_serveseen", default=None)

_CODE = re.compile(r"^[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{0,4})$")


class NotOffered(HandoutsError):
    """A request names a handout the page does not offer (unknown, or a draft the review gate refuses)."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # the language's own name for itself
    status: str  # source, reviewed or draft
    direction: str


@dataclass(frozen=True)
class Entry:
    """One handout in the list: a topic's kind, with what search looks at."""

    topic: str
    kind: str
    title: str
    codes: tuple[str, ...]
    review: str
    languages: tuple[Language, ...]
    text: str  # every title and sentence of every language, folded, for word search
    titles: Mapping[str, str] = field(default_factory=dict)
    summaries: Mapping[str, str] = field(default_factory=dict)
    updated: str = ""  # the topic's updated_on, ISO

    @property
    def draft(self) -> bool:
        return self.review != "reviewed"

    def language(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)


@dataclass(frozen=True)
class Brand:
    """One brand the page offers: its name (a brands/<name>.yaml, or "default") and its clinic's name."""

    name: str
    clinic: str


@dataclass
class State:
    """The workspace as it is now: its inputs' stamp, its validated catalog and the search index."""

    stamp: str
    workspace: Workspace
    entries: list[Entry]
    paper: str
    reviewed_only: bool
    #: The brands offered, the default first (Settings.brands, resolved against brands/).
    brands: tuple[Brand, ...] = (Brand(DEFAULT_BRAND, ""),)

    @property
    def brand_names(self) -> list[str]:
        return [brand.name for brand in self.brands]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _index(workspace: Workspace) -> list[Entry]:
    from handouts.load.languages import native_name, text_direction

    entries = []
    for topic in workspace.catalog:
        source = topic.meta.source_language
        languages = []
        for code in topic.languages:
            name = native_name(code)
            languages.append(Language(code, name[:1].upper() + name[1:], topic.translation_status(code),
                                      text_direction(code)))
        for kind in topic.kinds:
            titles = {lang: topic.handout(kind, lang).title for lang in topic.languages if kind in
                      topic.languages[lang].handouts}
            summaries = {lang: topic.handout(kind, lang).summary for lang in titles}
            text = " ".join(s for lang in topic.languages
                            for s in _strings(topic.handout(kind, lang).model_dump(mode="json")))
            entries.append(Entry(topic.id, kind, titles.get("en") or titles[source], tuple(topic.meta.codes),
                                 topic.meta.review.status, tuple(languages), _fold(f"{topic.id} {kind} {text}"),
                                 titles, summaries, topic.meta.updated_on.isoformat()))
    return entries


def code_key(code: str) -> str:
    """Return a diagnosis code without its dot, upper case: M54.31 and m5431 are the same code."""
    return code.replace(".", "").strip().upper()


class Engine:
    """The server's one view of the workspace, and the way it makes handouts (in the pool)."""

    def __init__(self, root: Path, pool: RenderPool | None, reviewed_only: bool | None = None,
                 brands: Sequence[str] = (DEFAULT_BRAND,)) -> None:
        self.root = root
        self.pool = pool
        self.reviewed_only_setting = reviewed_only
        self.brands_setting = tuple(brands) or (DEFAULT_BRAND,)
        self.digests = Digests(None)  # in memory: the server writes no cache files of its own
        self.state: State | None = None
        self._last: tuple[Any, Any] | None = None
        self.kept: OrderedDict[str, Made] = OrderedDict()
        self.pending: dict[tuple[str, bool], Awaitable[Made]] = {}
        self.renders = 0
        self.served_built = 0

    # --- the workspace as it is now ---

    def current(self) -> tuple[State, Any]:
        """Return the state of the workspace now (re-read when any input changed) and its Keys.

        When no input file or folder has a new size, time or inode since the last request (the
        marks handouts.cache.Digests trusts) and none changed in the last seconds (whose marks
        are not trusted yet), the last answer stands; otherwise everything is digested again.
        """
        earlier = seen.get()
        if earlier is not None:
            return earlier
        answer = self._check()
        seen.set(answer)
        return answer

    def _check(self) -> tuple[State, Any]:
        marks = self._marks()
        if self.state is not None and self._last is not None and marks is not None and marks == self._last[0]:
            return self.state, self._last[1]
        state, keys = self._digested()
        self._last = (marks, keys) if marks is not None else None
        return state, keys

    def _marks(self) -> tuple[tuple[str, int, int, int, int], ...] | None:
        """Return the marks of every input file and folder, or None when one changed in the last seconds."""
        import os
        import time

        from handouts.cache import PACKAGE_ROOT, environ_key
        from handouts.files import SETTLE_NS

        workspace = self.state.workspace if self.state else Workspace(self.root)
        # the package's message catalogs; its code is the running server's, which a restart replaces;
        # brands/: every brand file and folder (a new file is a new brand for --brand all)
        tops = [*workspace.input_paths(), brands_dir(workspace), PACKAGE_ROOT / "locale"]
        found: list[tuple[str, int, int, int, int]] = [(environ_key(), 0, 0, 0, 0)]
        newest = 0

        def mark(path: str, stat: os.stat_result) -> None:
            nonlocal newest
            found.append((path, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino))
            newest = max(newest, stat.st_mtime_ns, stat.st_ctime_ns)

        todo: list[str] = []
        for top in map(str, tops):
            try:
                stat = os.stat(top)
            except OSError:
                found.append((top, -1, 0, 0, 0))
                continue
            mark(top, stat)
            todo.append(top)
        while todo:
            try:
                entries = list(os.scandir(todo.pop()))
            except OSError:  # a file, or a folder that went away (its mark shows it)
                continue
            for entry in entries:
                if entry.name == "__pycache__":
                    continue
                try:
                    mark(entry.path, entry.stat())
                except OSError:
                    continue
                if entry.is_dir(follow_symlinks=False):  # a link to a folder cannot loop us
                    todo.append(entry.path)
        if time.time_ns() - newest < SETTLE_NS:
            return None
        return tuple(sorted(found))

    def _digested(self) -> tuple[State, Any]:
        from handouts.commands import resolve_brands, reviewed_only_default
        from handouts.jobs.batch import Keys
        from handouts.load.summary import summary_inputs

        workspace = self.state.workspace if self.state else Workspace(self.root)
        keys = Keys(workspace, self.digests)
        topics = self.digests.combined(summary_inputs(workspace))
        names = resolve_brands(workspace, self.brands_setting)  # "all" is every brand file there is now
        # every brand's inputs are in the stamp: a worker's Builder (and its brands') is made anew when one changes
        shared = "|".join(f"{name}={keys.shared_of(name)}" for name in names)
        stamp = hashlib.sha256(f"{shared}|{topics}".encode()).hexdigest()
        if self.state is None or self.state.stamp != stamp:
            fresh = Workspace(self.root)  # its config and catalog are read and validated again
            gated = reviewed_only_default(fresh) if self.reviewed_only_setting is None else self.reviewed_only_setting
            brands = _brands(fresh, names)
            self.state = State(stamp, fresh, _index(fresh), fresh.config.defaults.paper, gated, brands)
            keys = Keys(fresh, self.digests)
        return self.state, keys

    def brand(self, state: State, asked: str | None) -> str:
        """Return the brand a request names (none: the page's first); raise UsageError for one not offered.

        The name must equal one of the offered brands' names: nothing from a request becomes a path.
        """
        names = state.brand_names
        if not asked:
            return names[0]
        if asked not in names:
            from handouts.names import did_you_mean

            raise UsageError(f"the brand '{_shown(asked)}' is not offered here (offered: {', '.join(names)})"
                             f"{did_you_mean(asked, names)}")
        return asked

    @staticmethod
    def brand_query(state: State, brand: str) -> dict[str, str]:
        """Return the brand parameter of a link: none when the page offers only handouts.yaml's clinic."""
        return {} if state.brand_names == [DEFAULT_BRAND] else {"brand": brand}

    def offered(self, state: State) -> list[Entry]:
        """Return the handouts the page offers: with reviewed_only, only those a clinician reviewed."""
        if not state.reviewed_only:
            return list(state.entries)
        return [e for e in state.entries if not e.draft]

    def languages(self, state: State, entry: Entry) -> tuple[Language, ...]:
        """Return the languages offered for a handout: with reviewed_only, no draft translation."""
        if not state.reviewed_only:
            return entry.languages
        return tuple(lang for lang in entry.languages if lang.status != "draft")

    def search(self, state: State, query: str) -> list[Entry]:
        """Return the handouts that match a diagnosis code (or prefix, dot or not) or every word of query."""
        entries = self.offered(state)
        query = query.strip()
        if not query:
            return entries
        if _CODE.match(query):
            wanted = code_key(query)
            by_code = [e for e in entries
                       if any(code_key(c).startswith(wanted) or wanted.startswith(code_key(c)) for c in e.codes)]
            if by_code:
                return by_code
        words = _fold(query).split()
        return [e for e in entries if all(word in e.text for word in words)]

    def for_code(self, state: State, code: str) -> list[Entry]:
        """Return the handouts for an ICD-10-CM code, dot or not: those listing it or a code above it.

        ICD-10-CM is a prefix hierarchy (M54 > M54.3 > M54.31), so a topic that lists M54.3 is
        about every code below it; a request for M54.31 finds it. A topic listing only codes
        below the one asked (M54.31 for a request of M54) is not returned: it may be about
        something narrower than the patient's problem. The most specific match comes first.
        """
        if not _CODE.match(code.strip()):
            return []
        wanted = code_key(code)
        found = []
        for entry in self.offered(state):
            depth = max((len(code_key(c)) for c in entry.codes if wanted.startswith(code_key(c))), default=0)
            if depth:
                found.append((-depth, entry))
        return [entry for _depth, entry in sorted(found, key=lambda pair: pair[0])]

    # --- choices from a request, checked against the catalog ---

    def choose(self, state: State, form: Mapping[str, str]) -> Job:
        """Return the Job a request's choices name; raise NotOffered for anything not offered.

        Every value must equal one of the catalog's names: nothing from a request becomes a path.
        """
        entry = self.entry(state, form.get("topic", ""), form.get("kind", ""))
        lang = form.get("lang") or ("en" if entry.language("en") else entry.languages[0].code)
        if lang not in {language.code for language in self.languages(state, entry)}:
            raise NotOffered(f"the language '{_shown(lang)}' is not offered for this handout")
        length = form.get("length") or "standard"
        if length not in LENGTHS:
            raise NotOffered(f"unknown length '{_shown(length)}'; choose {', '.join(LENGTHS)}")
        paper = form.get("paper") or state.paper
        if paper not in PAPERS:
            raise NotOffered(f"unknown paper '{_shown(paper)}'; choose {', '.join(PAPERS)}")
        large = form.get("large", "") in ("1", "on", "yes", "true")
        brand = self.brand(state, form.get("brand"))
        job = Job(entry.topic, entry.kind, length, lang, paper, large, brand)
        self.gate(state, [job])
        return job

    def entry(self, state: State, topic: str, kind: str) -> Entry:
        """Return the list entry of topic's kind, or raise NotOffered."""
        for entry in state.entries:
            if entry.topic == topic and entry.kind == kind:
                if state.reviewed_only and entry.draft:
                    break
                return entry
        raise NotOffered(f"no handout '{_shown(topic)}' of kind '{_shown(kind)}' is offered here")

    def gate(self, state: State, jobs: list[Job]) -> None:
        """The review gate of every door (handouts.commands.gate): refuse a packet with any draft part."""
        from handouts.commands import RefusedError, gate

        _kept, refused = gate(state.workspace, jobs, state.reviewed_only)
        if refused:
            raise RefusedError(refused)

    # --- making handouts ---

    async def handout(self, job: Job, *, images: bool = True) -> tuple[Made, str]:
        """Return one handout without patient fields and where it came from: built, kept or rendered.

        A handout already built into output/ with the current key is read from there (its page
        images made from that PDF, never laid out again); others are rendered in the pool. Both
        are kept in memory by key, so the next request for it is served at once.
        """
        state, keys = self.current()
        key = keys.key(job)
        if key in self.kept and (self.kept[key].images or not images):
            self.kept.move_to_end(key)
            return self.kept[key], "kept"
        if (key, images) in self.pending:
            return await self.pending[(key, images)], "kept"
        import asyncio

        future: asyncio.Future[Made] = asyncio.get_running_loop().create_future()
        self.pending[(key, images)] = future
        try:
            made, source = await self._make(state, keys, job, key, images)
            future.set_result(made)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: an error nobody else awaited is not logged as lost
            raise
        finally:
            del self.pending[(key, images)]
        self.kept[key] = made
        while len(self.kept) > KEPT:
            self.kept.popitem(last=False)
        return made, source

    async def _make(self, state: State, keys: Any, job: Job, key: str, images: bool) -> tuple[Made, str]:
        from handouts.jobs.batch import Manifest, up_to_date

        assert self.pool is not None
        output = state.workspace.output_dir
        entry = Manifest(state.workspace, output, self.digests).get(job) if not output.is_symlink() else None
        if up_to_date(output, entry, key, self.digests):
            from handouts.files import contained

            pdf = contained(output / job.relpath, output, state.workspace.root).read_bytes()
            pictures = await self.pool.run(_rasterize, pdf, lane="quick") if images else ()
            if isinstance(pictures, str):
                raise HandoutsError(f"{job}: {pictures}")
            self.served_built += 1
            return Made(pdf, len(pictures) if images else int(entry["pages"] if entry else 0), pictures), "built"
        self.renders += 1
        made = await self.pool.run(_make, state.stamp, job, key, None, images)
        if isinstance(made, str):
            raise HandoutsError(f"{job}: {made}")
        return made, "rendered"

    async def personal(self, job: Job, personal: Any) -> bytes:
        """Return one handout with patient fields, made in the pool and never kept anywhere."""
        assert self.pool is not None
        state, keys = self.current()
        self.renders += 1
        made = await self.pool.run(_make, state.stamp, job, keys.key(job), personal, False)
        if isinstance(made, str):
            raise HandoutsError(f"{job}: {made}")
        return bytes(made.pdf)

    async def packet(self, jobs: list[Job]) -> Made:
        """Return several handouts joined into one PDF (the same join as `handouts packet`)."""
        assert self.pool is not None
        state, _keys = self.current()
        self.gate(state, jobs)
        self.renders += 1
        made = await self.pool.run(_packet, state.stamp, jobs)
        if isinstance(made, str):
            raise HandoutsError(made)
        return made  # type: ignore[no-any-return]


def _brands(workspace: Workspace, names: Sequence[str]) -> tuple[Brand, ...]:
    """Return the offered brands with their clinics' names, each brand file validated (ContentError)."""
    from handouts.errors import ContentError

    brands, problems = [], []
    for name in names:
        try:
            brands.append(Brand(name, workspace.for_brand(name).config.clinic.name))
        except ContentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ContentError(problems)
    return tuple(brands)


def _shown(value: str) -> str:
    """Return a request's value for a message: short, printable."""
    text = "".join(c if c.isprintable() else "?" for c in value[:40])
    return text + ("..." if len(value) > 40 else "")


def budget_words(length: str, large: bool = False) -> str:
    """Return a length's page budget in words; large print has twice the pages (its text is larger)."""
    if large:
        return f"up to {2 * PAGE_BUDGET[length]} pages in large print"
    return "1 page" if PAGE_BUDGET[length] == 1 else f"up to {PAGE_BUDGET[length]} pages"
