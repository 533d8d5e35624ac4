"""The engine behind every door: build, packet and check, with the review gate, for the CLI and the library.

MkDocs' `commands` layer is the model: each door (the command line, `handouts.build()`, packets,
printing, the web page and its infobutton, cluster builds) declares its options and calls a function here; nothing a
door needs (planning, the review gate, the choice between one file and a catalog, patient
fields, output targets) lives in the door. A rule enforced here holds at every door.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from handouts.cache import version_id
from handouts.errors import HandoutsError, UsageError
from handouts.jobs.planning import Job, Report, Result, only_reviewed, plan
from handouts.load.workspace import Workspace
from handouts.names import is_slug, slug_rule
from handouts.vocabulary import DEFAULT_BRAND

if TYPE_CHECKING:
    from handouts.check.quality import CheckReport
    from handouts.compose.personal import Personal
    from handouts.printing.cups import Cups
    from handouts.printing.send import Printed

WorkspaceLike = Workspace | str | os.PathLike[str] | None
OnResult = Callable[[Result], None]
OnJob = Callable[[Job], None]


def open_workspace(workspace: WorkspaceLike) -> Workspace:
    """Return a Workspace for a Workspace, a path (str or PathLike), or None (the current folder's)."""
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace.open(None if workspace is None else Path(workspace))


def reviewed_only_default(workspace: Workspace) -> bool:
    """Return handouts.yaml's defaults.reviewed_only, read from the file itself (never a cache).

    Read with the YAML reader alone, so a rebuild with nothing to do stays quick; an invalid config
    is reported by the full validation that any real work goes through.
    """
    from handouts.errors import ContentError
    from handouts.load import yamlio
    from handouts.load.workspace import CONFIG_FILE

    try:
        data = yamlio.load(workspace.root / CONFIG_FILE, workspace.root).data
    except ContentError:
        return bool(workspace.config.defaults.reviewed_only)  # raises the config's errors
    defaults = data.get("defaults") if isinstance(data, dict) else None
    value = defaults.get("reviewed_only", False) if isinstance(defaults, dict) else False
    # Fail closed: anything but a plain false turns the gate on (the schema takes only true or false,
    # so the full validation that real work goes through reports a value like "yes").
    return value is not False


def gate(
    workspace: Workspace, jobs: Sequence[Job], reviewed_only: bool | None
) -> tuple[list[Job], list[tuple[Job, str]]]:
    """The review gate: with reviewed_only (default: handouts.yaml's), refuse every unreviewed handout.

    Reads the validated topics. Raises when nothing is left to make.
    """
    if not (reviewed_only_default(workspace) if reviewed_only is None else reviewed_only):
        return list(jobs), []
    kept, refused = only_reviewed(workspace, jobs)
    if not kept:
        raise RefusedError(refused)
    return kept, refused


class RefusedError(HandoutsError):
    """Every chosen handout is an unreviewed draft and the review gate is on."""

    def __init__(self, refused: list[tuple[Job, str]]) -> None:
        self.refused = refused
        super().__init__(
            f"nothing to build: all {len(refused)} chosen handouts are unreviewed drafts (--reviewed-only)"
        )

    def notes(self) -> list[str]:
        return [f"refused: {job}: {reason} (--reviewed-only)" for job, reason in self.refused]


def single_file(output: Path | None) -> bool:
    """Return whether output names one file (a .pdf, or "-" for standard output) rather than a folder."""
    return output is not None and (str(output) == "-" or output.suffix.lower() == ".pdf")


def build(
    workspace: WorkspaceLike = None,
    *,
    topics: Sequence[str] = (),
    kinds: Sequence[str] = (),
    lengths: Sequence[str] = (),
    langs: Sequence[str] = (),
    papers: Sequence[str] = (),
    large_print: bool | Sequence[bool] = False,
    output: str | os.PathLike[str] | None = None,
    personal: Personal | None = None,
    reviewed_only: bool | None = None,
    workers: int | None = None,
    force: bool = False,
    overwrite: bool = False,
    brand: str | Sequence[str] = DEFAULT_BRAND,
    cluster: str | None = None,
    on_result: OnResult | None = None,
    on_skip: OnJob | None = None,
    on_refused: Callable[[Job, str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Report:
    """Build handouts: one named file (output NAME.pdf or "-"), or a catalog into a folder.

    A catalog build is incremental and runs in worker processes; a handout with patient fields
    goes only to one named file and is never recorded anywhere. The review gate holds either way.
    The callbacks report each handout as it is made, found up to date or refused; on_start gets
    the number of handouts chosen; on_warning gets each CSS problem (handouts.render.stylecheck)
    once, before anything is made: the CSS WeasyPrint will ignore, which `check` reports as errors.
    brand is one brand or several (names of brands/<name>.yaml, "default" for handouts.yaml's
    clinic, "all" for every brand file); another brand's handouts go to <output>/<brand>/.
    cluster is a Dask scheduler's address (tcp://HOST:8786): the catalog's jobs run on its workers
    and the PDFs are written here (handouts.jobs.cluster); patient fields never go there.
    """
    from handouts.files import check_output_target
    from handouts.limits import current

    current()  # a limit set to a value that is not a number is a usage error, before any work
    ws = open_workspace(workspace)
    out = Path(output) if output is not None else None
    single = single_file(out)
    if personal and out is not None and _inside(out, ws.output_dir):
        raise UsageError(
            f"-o {out}: a handout with patient fields may not go into the catalog's output folder "
            f"({ws.output_dir.name}/), where it would replace the handout everyone prints; name a file elsewhere"
        )
    if cluster is not None:
        from handouts.jobs.cluster import cluster_address

        if personal:
            raise UsageError("--cluster: patient fields never go to a cluster; make a handout with patient fields "
                             "here, without --cluster")
        if single:
            raise UsageError(f"--cluster builds a catalog into a folder; -o {out} names one file, which is made here "
                             "without --cluster")
        cluster = cluster_address(cluster)
    if personal and not single:
        raise UsageError(
            "a handout with patient fields goes only to a file you name: add -o NAME.pdf, or -o - for "
            "standard output, and choose one topic, kind, length and language"
        )
    if out is not None:
        check_output_target(out, ws.root, overwrite, folder=not single)
    large = (large_print,) if isinstance(large_print, bool) else tuple(large_print)
    brands = resolve_brands(ws, brand)

    def planned(validated: bool) -> list[Job]:
        jobs = plan(ws, topics, kinds, lengths, langs, papers, large, validated=validated)
        return [branded for name in brands for branded in _with_brand(jobs, name)]

    jobs = planned(False)  # names checked against the catalog summary: quick
    if single and len(jobs) != 1:
        raise UsageError(f"-o {out} names one file, but these choices make {len(jobs)} handouts; give a folder")
    folder = out if out is not None and not single else ws.output_dir
    if folder == ws.output_dir and ws.output_dir.is_symlink():
        raise UsageError(f"{ws.output_dir.name}/ is a link to {os.path.realpath(ws.output_dir)}: a workspace may not "
                         "send the build elsewhere; give the folder with -o if you mean it")
    if on_start:
        on_start(len(jobs))
    gated = reviewed_only if reviewed_only is not None else reviewed_only_default(ws)
    if not single and not gated and not force and _all_up_to_date(ws, jobs, folder):
        report = Report(skipped=list(jobs))  # nothing to do: neither pydantic nor WeasyPrint was imported
        for job in jobs:
            if on_skip:
                on_skip(job)
        return report
    jobs = planned(True)  # what is made or refused comes from the validated topics
    _validate_brands(ws, brands)
    kept, refused = gate(ws, jobs, gated)
    _warn_styles(ws, on_warning, brands)
    for job, reason in refused:
        if on_refused:
            on_refused(job, reason)
    if single:
        from handouts.jobs.pipeline import Builder

        assert out is not None
        result = Builder(ws).make(kept[0], out, personal)
        if on_result:
            on_result(result)
        return Report(results=[result], refused=refused)
    from handouts.jobs.batch import build_catalog

    report = build_catalog(ws, kept, folder, workers=workers, force=force, on_result=on_result, on_skip=on_skip,
                           cluster=cluster)
    report.refused.extend(refused)
    return report


def packet(
    workspace: WorkspaceLike,
    items: Sequence[str],
    output: str | os.PathLike[str],
    *,
    lang: str = "en",
    length: str = "standard",
    paper: str | None = None,
    large_print: bool = False,
    reviewed_only: bool | None = None,
    overwrite: bool = False,
    brand: str = DEFAULT_BRAND,
    on_warning: Callable[[str], None] | None = None,
) -> tuple[Report, int]:
    """Join handouts into one PDF (each starting on a right-hand page); return the report and the pages.

    ITEMS are "topic:kind" or "topic" (all its kinds). The review gate refuses the whole packet if
    any part of it is a draft, so a packet is never half what was asked for. on_warning gets each
    CSS problem once, as in build().
    """
    from handouts.files import check_output_target
    from handouts.jobs.packet import make_packet
    from handouts.jobs.pipeline import Builder
    from handouts.limits import current

    current()
    ws = open_workspace(workspace)
    out = Path(output)
    check_output_target(out, ws.root, overwrite)
    kept = _items_jobs(ws, items, lang, length, paper, large_print, brand, reviewed_only)
    _warn_styles(ws, on_warning, [kept[0].brand])
    pages = make_packet(Builder(ws), kept, out)
    return Report(results=[Result(job, out) for job in kept]), pages


def _items_jobs(ws: Workspace, items: Sequence[str], lang: str, length: str, paper: str | None, large_print: bool,
                brand: str, reviewed_only: bool | None, one: bool = False) -> list[Job]:
    """Plan the handouts a packet or a print names ("topic:kind" or "topic"), through the review gate."""
    from handouts.jobs.packet import parse_item

    jobs: list[Job] = []
    for item in items:
        topic, kind = parse_item(item)
        jobs.extend(plan(ws, [topic], [kind] if kind else [], [length], [lang], [paper] if paper else [],
                         (large_print,), validated=True))
    if not jobs:
        raise UsageError("name at least one handout, e.g. sciatica:overview")
    if one and len(jobs) != 1:
        raise UsageError("patient fields print on one handout: name one topic:kind, not a packet")
    kept, refused = gate(ws, _with_brand(jobs, _one_brand(ws, brand)), reviewed_only)
    if refused:
        raise RefusedError(refused)
    return kept


def print_(
    workspace: WorkspaceLike,
    items: Sequence[str],
    *,
    lang: str = "en",
    length: str = "standard",
    paper: str | None = None,
    large_print: bool = False,
    personal: Personal | None = None,
    printer: str | None = None,
    copies: int = 1,
    two_sided: bool = False,
    user: str | None = None,
    reviewed_only: bool | None = None,
    wait: float = 120.0,
    brand: str = DEFAULT_BRAND,
    cups: Cups | None = None,
) -> Printed:
    """Print one handout (ITEMS: one "topic:kind") or a packet (several, or a whole "topic") on a CUPS queue.

    The printer is checked before anything is made; the PDF goes to lp's standard input and is never
    a file here. The job's title holds catalog names only. A handout with patient fields is waited
    for (up to wait seconds) and then purged from the server's spool; every print appends rows to
    the workspace's print log (who, what, which version, when, which printer, how many copies).
    The review gate refuses the whole print if any part is a draft, as for packets. brand is one
    brand (a brands/<name>.yaml, or "default" for handouts.yaml's clinic), recorded in the log.
    """
    from handouts.jobs.packet import join_packet
    from handouts.jobs.pipeline import Builder, render_bounded
    from handouts.limits import current
    from handouts.printing.cups import Cups as Client
    from handouts.printing.send import choose_queue, send

    current()
    ws = open_workspace(workspace)
    if not 1 <= copies <= 99:
        raise UsageError(f"--copies {copies}: give 1 to 99")
    if wait <= 0:
        raise UsageError(f"--wait {wait:g}: give a number of seconds above 0")
    brand = _one_brand(ws, brand)  # a misspelt brand is said before the print server is asked anything
    client = cups or Client()
    client.require_server()  # no CUPS, a missing queue, a stopped printer: said before any work
    queue = choose_queue(ws.config.printers, printer, client)
    client.require_ready(queue)
    kept = _items_jobs(ws, items, lang, length, paper, large_print, brand, reviewed_only, one=bool(personal))
    builder = Builder(ws)
    versions = [version_id(builder.keys.key(job)) for job in kept]
    if len(kept) == 1:
        rendered = render_bounded(builder, kept[0], personal or None)
        pdf, pages = rendered.pdf, rendered.pages
    else:
        pdf, pages = join_packet(builder, kept)
    return send(ws.root, kept, pdf, pages, versions, queue=queue, copies=copies,
                sides="two-sided-long-edge" if two_sided else "one-sided", personal=bool(personal), user=user,
                wait=wait, cups=client, packet=" ".join(items) if len(kept) > 1 else "")


def purge_print_job(job: str, cups: Cups | None = None) -> bool:
    """Purge one finished job (QUEUE-ID) from the CUPS server: what to do when a personal print was pending.

    Return False when the server has no such job (already purged): nothing is left to remove.
    """
    from handouts.printing.cups import Cups as Client
    from handouts.printing.cups import PrintError
    from handouts.printing.send import parse_job

    submitted = parse_job(job)
    client = cups or Client()
    client.require_server()
    if not client.known(submitted):
        return False
    if client.pending(submitted):
        raise PrintError(f"job {submitted} has not finished printing; purge it once it has, or cancel it "
                         f"first with: cancel {submitted.job_id}")
    client.purge(submitted)
    return True


def check(
    workspace: WorkspaceLike,
    topics: Sequence[str] = (),
    *,
    render: bool = True,
    large_print: bool = True,
    workers: int | None = None,
    fresh: bool = False,
) -> CheckReport:
    """Run the quality gate: content, translations, reading level, review dates, sources, branding,
    and (with render) page budgets and colour contrast, reusing the layout facts builds recorded
    (fresh: lay everything out again, trusting no cache; what CI's gate does)."""
    from handouts.check.quality import run_checks
    from handouts.limits import current

    current()
    return run_checks(open_workspace(workspace), topics, render=render, large_print=large_print, workers=workers,
                      fresh=fresh)


def resolve_brands(workspace: Workspace, brand: str | Sequence[str]) -> list[str]:
    """Return the brands --brand values name (see handouts.load.brands.resolve)."""
    if brand == DEFAULT_BRAND:
        return [DEFAULT_BRAND]  # the workspace's own clinic: nothing to look up
    from handouts.load.brands import resolve

    return resolve(workspace, brand)


def _one_brand(workspace: Workspace, brand: str) -> str:
    """Return the one brand a packet or print is for, its file validated."""
    brands = resolve_brands(workspace, brand)
    if len(brands) != 1:
        raise UsageError(f"--brand {brand}: a packet or print is for one brand; name one")
    _validate_brands(workspace, brands)
    return brands[0]


def _validate_brands(workspace: Workspace, brands: Sequence[str]) -> None:
    """Raise one ContentError listing every problem of the chosen brand files, before anything is made."""
    from handouts.errors import ContentError

    problems = []
    for name in brands:
        try:
            workspace.for_brand(name).config  # noqa: B018 - validates the brand file
        except ContentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ContentError(problems)


def _warn_styles(workspace: Workspace, on_warning: Callable[[str], None] | None,
                 brands: Sequence[str] = (DEFAULT_BRAND,)) -> None:
    """Hand each CSS problem of the chosen brands to on_warning, once per run (never once per handout)."""
    if on_warning is None:
        return
    from handouts.render.stylecheck import style_problems

    seen: set[str] = set()
    for name in brands:
        for problem in style_problems(workspace.for_brand(name)):
            if str(problem) not in seen:
                seen.add(str(problem))
                on_warning(str(problem))


def _inside(path: Path, folder: Path) -> bool:
    return str(path) != "-" and Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _with_brand(jobs: list[Job], brand: str) -> list[Job]:
    if brand == DEFAULT_BRAND:
        return jobs
    if not is_slug(brand):  # the brand names a folder of the output
        raise UsageError(f"brand '{brand}': {slug_rule('brand', brand)}")
    from dataclasses import replace

    return [replace(job, brand=brand) for job in jobs]


def _all_up_to_date(workspace: Workspace, jobs: Sequence[Job], output: Path) -> bool:
    """Return whether every job's output exists with its current key: the only thing a cache may conclude."""
    from handouts.cache import Digests, cache_dir
    from handouts.jobs.batch import Keys, Manifest, up_to_date
    from handouts.load.summary import DIGESTS

    digests = Digests(cache_dir(workspace.root) / DIGESTS)
    keys = Keys(workspace, digests)
    manifest = Manifest(workspace, output, digests)
    done = all(up_to_date(output, manifest.get(job), keys.key(job), digests) for job in jobs)
    digests.save()
    return done
