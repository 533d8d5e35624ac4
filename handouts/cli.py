"""The command line: declares commands and options, then calls the library."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

if TYPE_CHECKING:
    from datetime import datetime

    from handouts.jobs.planning import Report
    from handouts.load.workspace import Workspace

from handouts import __version__

F = TypeVar("F", bound=Callable[..., Any])

LENGTH_HELP = "brief (1 page), standard (up to 2) or detailed (up to 4); repeat for several"


def _versions() -> str:
    import platform

    import weasyprint
    from weasyprint.text.ffi import pango

    number = pango.pango_version()  # major * 10000 + minor * 100 + micro
    pango_version = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    return (
        f"handouts {__version__}\nWeasyPrint {weasyprint.__version__}\n"
        f"Pango {pango_version}\nPython {platform.python_version()}"
    )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_versions())
        ctx.exit()


def reports_errors(func: F) -> F:
    """Show a HandoutsError as one line per problem and exit non-zero, with no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from handouts.errors import HandoutsError

        ctx = click.get_current_context()
        debug = (ctx.find_root().obj or {}).get("debug", False)
        try:
            return func(*args, **kwargs)
        except HandoutsError as exc:
            if debug:
                raise
            for line in exc.notes():
                click.echo(line, err=True)
            for line, excerpt in exc.with_excerpts():
                click.echo(f"error: {line}", err=True)
                for shown in excerpt:
                    click.echo(shown, err=True)
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:  # an unexpected bug: say so briefly unless --debug
            if debug:
                raise
            click.echo(f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
            ctx.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the versions of handouts, WeasyPrint, Pango and Python.")
@click.option("-w", "--workspace", type=click.Path(file_okay=False, path_type=Path), envvar="HANDOUTS_WORKSPACE",
              help="The workspace folder (default: the nearest folder with handouts.yaml).")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Fail a handout that takes longer than this (default 60; HANDOUTS_LIMIT_SECONDS_PER_HANDOUT).")
@click.pass_context
def main(ctx: click.Context, workspace: Path | None, debug: bool, time_limit: float | None) -> None:
    """Make printable patient-education handouts from YAML topics.

    \b
    Examples:
      handouts list
      handouts build sciatica --kind overview --length brief --lang es
      handouts build --all --paper letter --paper a4
      handouts init my-clinic
    """
    ctx.obj = {"workspace": workspace, "debug": debug}
    if debug:  # handouts.jobs.cluster leaves Dask's own log lines and tracebacks on only then
        import logging

        logging.getLogger("handouts").setLevel(logging.DEBUG)
    _stop_cleanly_on_sigterm(ctx)
    if time_limit is not None:
        # the environment carries it to worker processes, however they start; put back when done
        import os

        from handouts.limits import Limits

        name = Limits().variable("seconds_per_handout")
        before = os.environ.get(name)
        os.environ[name] = repr(time_limit)
        ctx.call_on_close(lambda: _restore(name, before))


def _stop_cleanly_on_sigterm(ctx: click.Context) -> None:
    """Let SIGTERM (a service manager, `timeout`, `kill`) stop a build as Ctrl-C does: workers
    ended, what was built recorded, temporary files and folders removed. Workers reset it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


def _restore(name: str, value: str | None) -> None:
    import os

    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _workspace(ctx: click.Context) -> Workspace:
    from handouts.load.workspace import Workspace as Opened

    return Opened.open(ctx.find_root().obj["workspace"])


@main.command("list")
@click.option("--code", help="Only handouts for this ICD-10-CM code or code prefix, e.g. M54.31.")
@click.pass_context
@reports_errors
def list_command(ctx: click.Context, code: str | None) -> None:
    """List topics, kinds of handout, languages with translation status, and codes.

    \b
    Examples:
      handouts list
      handouts list --code M54.31
    """
    from handouts.load.listing import format_listing

    click.echo(format_listing(_workspace(ctx), code))


@main.command("build")
@click.argument("topics", nargs=-1)
@click.option("--all", "all_topics", is_flag=True, help="Build every topic.")
@click.option("-k", "--kind", "kinds", multiple=True, help="overview, faq, caution...; repeat for several.")
@click.option("-l", "--length", "lengths", multiple=True, help=LENGTH_HELP)
@click.option("--lang", "langs", multiple=True, help="Language code (BCP 47), e.g. en, es; repeat for several.")
@click.option("-p", "--paper", "papers", multiple=True, help="letter or a4 (default from handouts.yaml).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output folder (default: output/), or a .pdf file name when building one handout.")
@click.option("--large-print", "large_print", type=click.Choice(["yes", "no", "both"]), is_flag=False,
              flag_value="yes", default="no", show_default=True,
              help="Large print for low vision: 18 pt text, 1.5 line spacing; page budgets doubled. "
                   "--large-print both makes normal and large print in one build.")
@click.option("--patient-name", help="Print the patient's name in the 'For you' box (never stored).")
@click.option("--clinician", help="Print the clinician's name in the 'For you' box.")
@click.option("--follow-up", type=click.DateTime(formats=["%Y-%m-%d"]), help="Follow-up date, YYYY-MM-DD.")
@click.option("--note", help="A short note for the patient in the 'For you' box.")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1),
              help="Worker processes for a catalog build (default: the number of CPUs).")
@click.option("--force", is_flag=True, help="Rebuild every handout, even those that are up to date.")
@click.option("--overwrite", is_flag=True, help="Let -o replace an existing file that is not a PDF.")
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
@click.option("--reviewed-only/--any-status", default=None,
              help="Build only handouts reviewed by a clinician and, for translations, a medical translator "
                   "(default from handouts.yaml: defaults.reviewed_only).")
@click.option("--brand", "brands", multiple=True, metavar="NAME",
              help="Build for the clinic in brands/NAME.yaml, into OUTPUT/NAME/; repeat for several; "
                   "'all' for every brand file, 'default' for handouts.yaml's clinic (the default).")
@click.option("--cluster", metavar="ADDRESS", envvar="HANDOUTS_CLUSTER", show_envvar=True,
              help="Build the catalog on a Dask cluster, e.g. tcp://HOST:8786 (needs handouts[cluster]); "
                   "the PDFs are written here. Never with patient fields.")
@click.pass_context
@reports_errors
def build_command(ctx: click.Context, topics: tuple[str, ...], all_topics: bool, kinds: tuple[str, ...],
                  lengths: tuple[str, ...], langs: tuple[str, ...], papers: tuple[str, ...],
                  output: Path | None, large_print: str, patient_name: str | None, clinician: str | None,
                  follow_up: datetime | None, note: str | None, workers: int | None, force: bool, overwrite: bool,
                  quiet: bool, reviewed_only: bool | None, brands: tuple[str, ...], cluster: str | None) -> None:
    """Build handouts as PDF files.

    With no --kind, --length or --lang, builds every kind, length and language of
    the topics named. Files go to OUTPUT/<lang>/<topic>/<kind>-<length>-<paper>.pdf.

    \b
    Examples:
      handouts build sciatica --kind overview --length brief --lang es
      handouts build sciatica --kind faq --length detailed --lang en --paper a4 -o /tmp/out
      handouts build kratom --kind caution --length standard --lang en
      handouts build sciatica
      handouts build --all --paper letter --paper a4
      handouts build sciatica -k overview -l brief --lang es --patient-name "Ana Ruiz" -o ana.pdf
      handouts build --all --brand all
      handouts build --all --brand all --cluster tls://scheduler.example.org:8786

    Patient fields (--patient-name, --clinician, --follow-up, --note) print on one handout
    that goes only to the file named with -o (or to standard output with -o -); they are
    never written to a log, a cache, a manifest or a file name.
    """
    from handouts import commands
    from handouts.compose.personal import Personal
    from handouts.errors import UsageError, display_path
    from handouts.jobs.planning import Job, Result

    ws = _workspace(ctx)
    if not topics and not all_topics:
        from handouts.load.summary import catalog_summary

        names = sorted(t["id"] for t in catalog_summary(ws)["topics"])
        raise UsageError(f"name a topic or use --all; available: {', '.join(names)}")
    personal = Personal(patient_name, clinician, follow_up.date() if follow_up else None, note)
    single = commands.single_file(output)
    if cluster is not None and single and ctx.get_parameter_source("cluster") is ParameterSource.ENVIRONMENT:
        cluster = None  # HANDOUTS_CLUSTER is for catalogs: one named handout (a patient's) is made here
    if output is not None and str(output) == "-":
        quiet = True  # standard output carries the PDF; messages go to standard error
    done = 0

    def show(result: Result) -> None:
        nonlocal done
        done += result.ok
        if not result.ok:
            click.echo(f"failed: {result.job}: {result.error}", err=True)
            return
        if result.over_budget and result.path is not None:
            click.echo(f"warning: {display_path(result.path)}: {result.pages} pages, over the {result.job.length} "
                       f"budget ({result.job.budget_rule})", err=True)
        if not quiet and result.path is not None:
            click.echo(f"wrote {display_path(result.path)} ({result.pages} page{'s' if result.pages != 1 else ''})")

    def refused(job: Job, reason: str) -> None:
        click.echo(f"refused: {job}: {reason} (--reviewed-only)", err=True)

    def build(on_result: Callable[[Result], None], on_skip: Callable[[Job], None] | None = None,
              on_start: Callable[[int], None] | None = None) -> Report:
        return commands.build(
            ws, topics=topics, kinds=kinds, lengths=lengths, langs=langs, papers=papers,
            large_print={"yes": (True,), "no": (False,), "both": (False, True)}[large_print],
            output=output, personal=personal or None, reviewed_only=reviewed_only, workers=workers, force=force,
            overwrite=overwrite, brand=brands or "default", cluster=cluster, on_result=on_result,
            on_skip=on_skip, on_refused=refused, on_start=on_start,
            on_warning=lambda line: click.echo(f"warning: {line}", err=True),
        )

    try:
        if sys.stdout.isatty() and not quiet and not single:
            # On a terminal: a progress bar instead of a line per handout; problems still print.
            with click.progressbar(length=0, label="Building", show_pos=True) as bar:
                def progress(result: Result) -> None:
                    if not result.ok or result.over_budget:
                        show(result)
                    else:
                        nonlocal done
                        done += 1
                    bar.update(1)

                def start(total: int) -> None:
                    bar.length = total

                report = build(progress, lambda _job: bar.update(1), start)
        else:
            report = build(show)
    except KeyboardInterrupt:
        click.echo(f"interrupted: {done} handouts built in this run are kept and recorded; "
                   "run the same command again to build the rest.", err=True)
        ctx.exit(130)
    if single:
        click.echo(f"{len(report.built)} built, {len(report.failed)} failed.", err=str(output) == "-")
    else:
        click.echo(f"{len(report.built)} built, {len(report.skipped)} up to date, {len(report.failed)} failed.")
    if report.failed:
        ctx.exit(1)


@main.command("check")
@click.argument("topics", nargs=-1)
@click.option("--strict", is_flag=True, help="Fail on warnings too, not only on errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON for tools.")
@click.option("--no-render", is_flag=True, help="Skip the checks that render (page budgets, colour contrast).")
@click.option("--problems", is_flag=True, help="Show only warnings and errors.")
@click.option("-v", "--verbose", is_flag=True, help="List the hardest sentences of every handout.")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1),
              help="Worker processes that lay out handouts (default: the number of CPUs).")
@click.option("--fresh", is_flag=True,
              help="Lay out every handout again instead of reusing what builds recorded (trust no cache).")
@click.pass_context
@reports_errors
def check_command(ctx: click.Context, topics: tuple[str, ...], strict: bool, as_json: bool, no_render: bool,
                  problems: bool, verbose: bool, workers: int | None, fresh: bool) -> None:
    """Check content, translations, reading level, page budgets, review dates and branding.

    Exits 1 when a check fails (with --strict, also on warnings). Notes, such as drafts
    that no clinician has reviewed yet, never fail.

    \b
    Examples:
      handouts check
      handouts check sciatica --no-render
      handouts check --strict --json > report.json
    """
    import json

    from handouts import commands
    from handouts.check.quality import format_report

    report = commands.check(_workspace(ctx), topics, render=not no_render, workers=workers, fresh=fresh)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report, verbose=verbose, problems_only=problems))
    if not report.passed(strict):
        ctx.exit(1)


@main.command("packet")
@click.argument("items", nargs=-1, required=True)
@click.option("--lang", default="en", show_default=True, help="Language code (BCP 47).")
@click.option("-l", "--length", default="standard", show_default=True, help="brief, standard or detailed.")
@click.option("-p", "--paper", help="letter or a4 (default from handouts.yaml).")
@click.option("--large-print", is_flag=True, help="Large print versions.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The packet's file name, or - for standard output.")
@click.option("--overwrite", is_flag=True, help="Let -o replace an existing file that is not a PDF.")
@click.option("--reviewed-only/--any-status", default=None,
              help="Refuse the packet if any part is not fully reviewed (default from handouts.yaml).")
@click.option("--brand", default="default", show_default=True, metavar="NAME",
              help="Print for the clinic in brands/NAME.yaml ('default': handouts.yaml's clinic).")
@click.pass_context
@reports_errors
def packet_command(ctx: click.Context, items: tuple[str, ...], lang: str, length: str, paper: str | None,
                   large_print: bool, output: Path, overwrite: bool, reviewed_only: bool | None, brand: str) -> None:
    """Combine handouts into one PDF for printing: each starts on a right-hand page.

    ITEMS are topic:kind (one handout) or topic (all its kinds), in the order to print.

    \b
    Example:
      handouts packet sciatica:overview sciatica:faq kratom:caution --lang es -o paquete.pdf
      handouts print sciatica:overview sciatica:faq --lang es --two-sided
    """
    from handouts import commands
    from handouts.errors import display_path

    _report, pages = commands.packet(_workspace(ctx), items, output, lang=lang, length=length, paper=paper,
                                     large_print=large_print, reviewed_only=reviewed_only, overwrite=overwrite,
                                     brand=brand, on_warning=lambda line: click.echo(f"warning: {line}", err=True))
    count = len(_report.results)
    if str(output) == "-":  # standard output carries the PDF; the message goes to standard error
        click.echo(f"wrote standard output ({count} handouts, {pages} pages)", err=True)
    else:
        click.echo(f"wrote {display_path(output)} ({count} handouts, {pages} pages)")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any but this machine's own (loopback) needs --allow-remote and a token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--allow-remote", is_flag=True, help="Allow listening on an address other computers can reach.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the access token staff enter once (or HANDOUTS_SERVE_TOKEN).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, envvar="HANDOUTS_SERVE_ALLOWED_HOSTS",
              help="A host name the page answers to (Host header); repeat (default: localhost, 127.0.0.1, ::1).")
@click.option("--public-url", envvar="HANDOUTS_SERVE_PUBLIC_URL",
              help="The page's address behind a reverse proxy, e.g. https://handouts.clinic.example/.")
@click.option("--frame-ancestor", "frame_ancestors", multiple=True,
              help="An origin that may embed the page in a frame (an EHR), e.g. https://ehr.clinic.example.")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes that make handouts.")
@click.option("--reviewed-only/--any-status", default=None,
              help="Offer only reviewed handouts (default from handouts.yaml: defaults.reviewed_only).")
@click.option("--open-infobutton", is_flag=True,
              help="With a token: answer /infobutton and its patient-free PDF links without it (for EHR links).")
@click.option("--brand", "brands", multiple=True, metavar="NAME",
              help="Offer the clinic in brands/NAME.yaml; repeat for several (the page then has a choice; the first "
                   "is the default); 'all' for every brand file, 'default' for handouts.yaml's clinic (the default).")
@click.pass_context
@reports_errors
def serve_command(ctx: click.Context, host: str, port: int, allow_remote: bool, token_file: Path | None,
                  allowed_hosts: tuple[str, ...], public_url: str | None, frame_ancestors: tuple[str, ...],
                  workers: int, reviewed_only: bool | None, open_infobutton: bool, brands: tuple[str, ...]) -> None:
    """Serve the front desk's web page: find, preview, personalize and download handouts.

    \b
    Examples:
      handouts serve                      then open http://127.0.0.1:8765/
      handouts serve --port 9000 --reviewed-only
      handouts serve --brand north-valley --brand south-side
      an EHR's infobutton: http://127.0.0.1:8765/infobutton?mainSearchCriteria.v.c=M54.31&...
    """
    import os

    from handouts.errors import UsageError
    from handouts.serve import Settings, is_loopback, run

    token = os.environ.get("HANDOUTS_SERVE_TOKEN") or None
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UsageError(f"--token-file {token_file}: {exc.strerror or exc}") from None
    if not is_loopback(host):
        if not allow_remote:
            raise UsageError(f"--host {host} lets other computers reach the page; add --allow-remote if you mean it "
                             "(and an access token), or run it behind a reverse proxy (see README: Front desk)")
        if not token or len(token) < 16:
            raise UsageError("--allow-remote needs an access token of at least 16 characters: "
                             "HANDOUTS_SERVE_TOKEN or --token-file")
    import re

    for origin in frame_ancestors:
        if not re.fullmatch(r"'self'|https?://[A-Za-z0-9*.-]+(:[0-9]{1,5})?", origin):
            raise UsageError(f"--frame-ancestor {origin}: give an origin such as https://ehr.clinic.example, or 'self'")
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        raise UsageError(f"--public-url {public_url}: give the whole address, e.g. https://handouts.clinic.example/")
    from handouts.commands import resolve_brands

    ws = _workspace(ctx)
    resolve_brands(ws, brands or "default")  # a misspelt brand is said before any worker starts
    settings = Settings(host=host, port=port, allowed_hosts=tuple(h.lower() for h in allowed_hosts),
                        public_url=public_url, token=token, frame_ancestors=frame_ancestors, workers=workers,
                        reviewed_only=reviewed_only, open_infobutton=open_infobutton,
                        brands=brands or ("default",),
                        debug=(ctx.find_root().obj or {}).get("debug", False))
    run(ws.root, settings)
@main.command("print")
@click.argument("items", nargs=-1)
@click.option("-d", "--printer", help="A CUPS queue, or a printer's name from handouts.yaml "
                                      "(default: the first listed there, else the server's default).")
@click.option("-n", "--copies", type=click.IntRange(1, 99), default=1, show_default=True, help="How many copies.")
@click.option("--two-sided/--one-sided", default=False, help="Print on both sides (long edge) or one.  [default: one]")
@click.option("--lang", default="en", show_default=True, help="Language code (BCP 47).")
@click.option("-l", "--length", default="standard", show_default=True, help="brief, standard or detailed.")
@click.option("-p", "--paper", help="letter or a4 (default from handouts.yaml).")
@click.option("--large-print", is_flag=True, help="Large print for low vision.")
@click.option("--patient-name", help="Print the patient's name in the 'For you' box (never stored).")
@click.option("--clinician", help="Print the clinician's name in the 'For you' box.")
@click.option("--follow-up", type=click.DateTime(formats=["%Y-%m-%d"]), help="Follow-up date, YYYY-MM-DD.")
@click.option("--note", help="A short note for the patient in the 'For you' box.")
@click.option("--user", help="Who prints, for the print log (default: the OS user).")
@click.option("--wait", type=click.FloatRange(min=0, min_open=True), default=120, show_default=True, metavar="SECONDS",
              help="How long to wait for a handout with patient fields to print before purging it.")
@click.option("--purge", "purge_job", metavar="QUEUE-ID",
              help="Only purge one finished job from the server (what to do when a print was still pending).")
@click.option("--reviewed-only/--any-status", default=None,
              help="Refuse the print if any part is not fully reviewed (default from handouts.yaml).")
@click.option("--brand", default="default", show_default=True, metavar="NAME",
              help="Print for the clinic in brands/NAME.yaml ('default': handouts.yaml's clinic).")
@click.pass_context
@reports_errors
def print_command(ctx: click.Context, items: tuple[str, ...], printer: str | None, copies: int, two_sided: bool,
                  lang: str, length: str, paper: str | None, large_print: bool, patient_name: str | None,
                  clinician: str | None, follow_up: datetime | None, note: str | None, user: str | None,
                  wait: float, purge_job: str | None, reviewed_only: bool | None, brand: str) -> None:
    """Print a handout or a packet on a CUPS printer, and log it.

    ITEMS are topic:kind (one handout) or several, or a topic (all its kinds), for a packet.
    The job's title holds only catalog names. A handout with patient fields is waited for
    and then purged from the print server, so nothing of the patient stays behind.

    \b
    Examples:
      handouts print sciatica:overview --lang es --large-print -d FrontDesk
      handouts print sciatica:overview -l brief --lang es --patient-name "Ana Ruiz" -n 2 --two-sided
      handouts print sciatica:overview sciatica:faq kratom:caution --lang es --two-sided
      handouts print sciatica:overview --brand north-valley
      handouts print --purge FrontDesk-12
    """
    from handouts import commands
    from handouts.compose.personal import Personal
    from handouts.errors import UsageError

    if purge_job:
        if items:
            raise UsageError("--purge names a job to purge; print and purge in separate commands")
        if commands.purge_print_job(purge_job):
            click.echo(f"purged job {purge_job}")
        else:
            click.echo(f"the print server has no job {purge_job}: nothing of it is left to purge")
        return
    if not items:
        raise UsageError("name a handout to print, e.g. sciatica:overview")
    personal = Personal(patient_name, clinician, follow_up.date() if follow_up else None, note)
    done = commands.print_(_workspace(ctx), items, lang=lang, length=length, paper=paper, large_print=large_print,
                           personal=personal or None, printer=printer, copies=copies, two_sided=two_sided,
                           user=user, reviewed_only=reviewed_only, wait=wait, brand=brand)
    what = {"purged": "printed and purged from the print server", "sent": "sent"}[done.outcome]
    click.echo(f"job {done.job}: \"{done.title}\", {done.pages} page{'s' if done.pages != 1 else ''} x "
               f"{done.copies}: {what}")


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@reports_errors
def init_command(directory: Path) -> None:
    """Make a new clinic workspace that builds right away.

    \b
    Example:
      handouts init my-clinic && cd my-clinic && handouts build --all
    """
    from handouts.scaffold import scaffold

    for path in scaffold(directory):
        click.echo(f"created {path}")
    click.echo(f"Next: edit {directory}/handouts.yaml (your clinic's name, logo, colours), then run: "
               f"cd {directory} && handouts build --all")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
