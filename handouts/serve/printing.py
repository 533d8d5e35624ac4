"""The page's print button: POST /print sends a handout or a packet to one of the clinic's printers.

The desk picks a printer from handouts.yaml's `printers:` (never a queue a request names), copies
and two-sided; the page remembers the desk's printer in a cookie (a queue name, never patient data).
The print itself is handouts.commands.print_(), the command line's engine function, run in the
worker pool: the handout is laid out there under the time limit, a personal one is waited for and
purged there, and the event loop only awaits the answer, bounded (PAGE_WAIT for the job, then the
pool's own limit). Patient fields come in the POST body, reach that worker for one render and are
never echoed: the answer is the job, its printer and copies, or one line of CUPS's trouble.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handouts.errors import HandoutsError, UsageError

if TYPE_CHECKING:
    from handouts.compose.personal import Personal
    from handouts.jobs.planning import Job
    from handouts.load.config import Printer
    from handouts.serve.engine import Engine, State

#: The cookie with the desk's printer (its CUPS queue): each desk's browser keeps its own choice.
PRINTER_COOKIE = "handouts_printer"
#: Seconds the page waits for a personal handout's job to print before it says "pending".
PAGE_WAIT = 30.0
#: Seconds beyond the render's limit and PAGE_WAIT the pool allows a print (CUPS's commands).
CUPS_SLACK = 60.0
#: Who the print log names for a print from the page: it has no user names (the token sign-in is one
#: token for everyone), so the page and the client's address, never a patient field.
PAGE_USER = "front desk page"
HOW_TO_ADD = ("No printers are set up for this page. An administrator lists the clinic's CUPS printers in "
              "handouts.yaml, under printers: (README: Branding, and Printing: handouts print); the page offers "
              "them at once.")


@dataclass(frozen=True)
class Answer:
    """What a print did, as a worker hands it back: the job, or the lines of an error and its status."""

    lines: tuple[str, ...]
    status: int = 200
    job: str = ""


def print_in_worker(items: list[str], jobs: list[Job], queue: str, copies: int, two_sided: bool,
                    personal: Personal | None, user: str, reviewed_only: bool, wait: float) -> Answer:
    """Run handouts.commands.print_() in a pool worker on the server's workspace; return an Answer."""
    from handouts import commands
    from handouts.printing.cups import PrintError
    from handouts.serve import pool

    assert pool._root is not None
    first = jobs[0]
    try:
        printed = commands.print_(pool._root, items, lang=first.lang, length=first.length, paper=first.paper,
                                  large_print=first.large, personal=personal, printer=queue, copies=copies,
                                  two_sided=two_sided, user=user, reviewed_only=reviewed_only, wait=wait,
                                  brand=first.brand)
    except PrintError as exc:
        return Answer(tuple(exc.lines()), 503)
    except commands.RefusedError as exc:
        return Answer(tuple(exc.notes() + exc.lines()), 403)
    except UsageError as exc:
        return Answer(tuple(exc.lines()), 400)
    except HandoutsError as exc:
        return Answer(tuple(exc.notes() + exc.lines()), 500)
    return Answer((), 200, str(printed.job))


def printers(state: State) -> Sequence[Printer]:
    return state.workspace.config.printers


def print_context(request: Request, state: State) -> dict[str, Any]:
    """Return what the page's print control needs: the clinic's printers and this desk's choice."""
    listed = printers(state)
    chosen = request.cookies.get(PRINTER_COOKIE, "")
    if not any(p.queue == chosen for p in listed):
        chosen = listed[0].queue if listed else ""
    return {"printers": listed, "printer": chosen, "how_to_add": HOW_TO_ADD}


def message(name: str, job: str, copies: int, two_sided: bool, personal: bool) -> str:
    """Return the line the page shows after a print, e.g. Sent to Front desk printer (job PDF-12), 2 copies."""
    sides = ", two-sided" if two_sided else ""
    text = f"Sent to {name} printer (job {job}), {copies} cop{'y' if copies == 1 else 'ies'}{sides}."
    if personal:
        text += " It has printed, and the print server no longer keeps the patient's copy."
    return text


def print_routes(engine: Engine, page: Callable[..., Response], form_of: Callable[[Request], Any],
                 personal_of: Callable[[dict[str, str]], Any], secure_cookies: bool) -> list[Route]:
    """Return the route POST /print, which uses the app's page(), form checks (CSRF, Origin) and fields."""

    async def print_post(request: Request) -> Response:
        fields = await form_of(request)
        form = await request.form()
        state = engine.current()[0]
        listed = printers(state)
        if not listed:
            raise UsageError(HOW_TO_ADD)
        printer = next((p for p in listed if p.queue == fields.get("printer")), None)
        if printer is None:
            raise UsageError("choose one of the clinic's printers from the list (reload the page)")
        copies_text = fields.get("copies", "1").strip()
        if not copies_text.isdigit() or not 1 <= int(copies_text) <= 99:
            raise UsageError("copies: give a number from 1 to 99")
        copies, two_sided = int(copies_text), fields.get("two_sided") in ("1", "on")
        items = [v for v in form.getlist("item") if isinstance(v, str)][:20]
        if not items:
            items = [f"{fields.get('topic', '')}:{fields.get('kind', '')}"]
        jobs: list[Job] = []
        for item in items:
            topic, _, kind = item.partition(":")
            jobs.append(engine.choose(state, {**fields, "topic": topic, "kind": kind}))  # gate: a draft is refused
        engine.gate(state, jobs)
        personal = personal_of(fields) if len(jobs) == 1 else None
        personal = personal or None
        client = request.client.host if request.client else "unknown"
        assert engine.pool is not None
        from handouts.limits import current

        limits = current()
        answer: Answer = await engine.pool.run(
            print_in_worker, [f"{j.topic}:{j.kind}" for j in jobs], jobs, printer.queue, copies, two_sided,
            personal, f"{PAGE_USER} ({client})", state.reviewed_only, PAGE_WAIT,
            seconds=limits.seconds_per_handout * len(jobs) + limits.grace_seconds + PAGE_WAIT + CUPS_SLACK)
        brand = engine.brand_query(state, jobs[0].brand)
        back = ("/packet" + (f"?{urlencode(brand)}" if brand else "")) if len(jobs) > 1 else "/handout?" + urlencode(
            {"topic": jobs[0].topic, "kind": jobs[0].kind, "length": jobs[0].length, "lang": jobs[0].lang,
             "paper": jobs[0].paper, "large": "1" if jobs[0].large else "0", **brand})
        if answer.status == 200:
            lines, sent = [message(printer.name, answer.job, copies, two_sided, personal is not None)], True
        else:
            lines, sent = list(answer.lines), False
        response = page(request, "printed.html", status=answer.status, lines=lines, sent=sent, back=back)
        response.headers["cache-control"] = "no-store"
        response.set_cookie(PRINTER_COOKIE, printer.queue, max_age=400 * 86400, httponly=True, samesite="strict",
                            secure=secure_cookies)
        return response

    return [Route("/print", print_post, methods=["POST"])]
