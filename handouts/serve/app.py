"""The front desk's page: find a handout, choose its options, see its pages, download or print it.

A Starlette app (a small, well-kept ASGI toolkit: routing, forms and responses, nothing more) with
plain HTML forms that work without JavaScript. Every handout goes through the engine
(handouts.serve.engine): the same catalog, review gate, keys and limits as the command line,
made in the long-lived worker pool (handouts.serve.pool), never in the event loop.

Patient fields come only in POST bodies; they are passed to one render in a worker and answered
with `Cache-Control: no-store` and a generic file name; nothing logs, keeps or writes them.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from handouts.errors import HandoutsError, UsageError
from handouts.serve.engine import Engine, Entry, NotOffered, State, budget_words, seen
from handouts.serve.printing import print_context, print_routes
from handouts.serve.security import ACCESS_COOKIE, CSRF_COOKIE, BodyTooLarge, Guard, Settings, csrf_ok, origin_ok
from handouts.vocabulary import DEFAULT_BRAND, LENGTHS, PAPERS

log = logging.getLogger("handouts.serve")

HERE = Path(__file__).resolve().parent
STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
#: Longest patient field accepted, by field (characters).
FIELD_LIMITS = {"patient_name": 100, "clinician": 100, "note": 300}
PAPER_NAMES = {"letter": "Letter (8.5 × 11 in)", "a4": "A4 (210 × 297 mm)"}
CHOICES = ("topic", "kind", "length", "lang", "paper", "large", "brand")


def _templates() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(LENGTHS=LENGTHS, PAPERS=PAPERS, PAPER_NAMES=PAPER_NAMES, budget_words=budget_words)
    return env


def _fonts() -> dict[str, Path]:
    """Return the page's fonts by file name: the shipped styles/fonts (Noto Sans, Arabic, CJK)."""
    from handouts.load.workspace import builtin_dir

    folder = builtin_dir("styles") / "fonts"
    return {p.name: p for p in sorted(folder.glob("*")) if p.suffix in (".ttf", ".otf") and p.is_file()}


def create_app(settings: Settings, engine: Engine) -> Any:
    """Return the ASGI app: the routes behind the guard (Host, size, token, headers)."""
    env = _templates()
    fonts = _fonts()

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        token = request.cookies.get(CSRF_COOKIE) or ""
        fresh = len(token) != 43
        if fresh:
            token = secrets.token_urlsafe(32)
        html = env.get_template(template).render(csrf=token, path=request.url.path, token_needed=bool(settings.token),
                                                 **context)
        response = HTMLResponse(html, status)
        if fresh:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies)
        return response

    async def form_of(request: Request) -> dict[str, str]:
        """Return a POST's fields after the CSRF and Origin checks (403 without them)."""
        if not origin_ok(request.scope, settings):
            raise HTTPException(403, "This form did not come from this page (Origin check).")
        form = await request.form(max_files=0, max_fields=60)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if not csrf_ok(request.scope, fields.get("csrf", "")):
            raise HTTPException(403, "This form has expired or did not come from this page; reload the page.")
        return fields

    def state() -> State:
        return engine.current()[0]

    def brands(now: State, brand: str) -> dict[str, Any]:
        """Return what a page needs to offer the brands: all of them, the one chosen, its link parameter."""
        return {"brands": now.brands, "brand": brand, "brand_query": engine.brand_query(now, brand)}

    async def index(request: Request) -> Response:
        now = state()
        query = request.query_params.get("q", "")[:100]
        brand = engine.brand(now, request.query_params.get("brand", "")[:64])
        found = engine.search(now, query)
        return page(request, "index.html", query=query, found=found, reviewed_only=now.reviewed_only,
                    total=len(engine.offered(now)), **brands(now, brand))

    def choices(request: Request) -> dict[str, str]:
        return {k: request.query_params.get(k, "")[:64] for k in CHOICES}

    async def handout(request: Request) -> Response:
        now = state()
        asked = choices(request)
        job = engine.choose(now, asked)
        entry = engine.entry(now, job.topic, job.kind)
        made, source = await engine.handout(job)
        query = _query(job, engine.brand_query(now, job.brand))
        return page(request, "handout.html", entry=entry, job=job, pages=made.pages, source=source,
                    languages=engine.languages(now, entry), language=entry.language(job.lang), query=query,
                    kinds=[e for e in engine.offered(now) if e.topic == entry.topic],
                    title=entry.titles.get(job.lang, entry.title), **print_context(request, now),
                    **brands(now, job.brand))

    async def preview(request: Request) -> Response:
        now = state()
        job = engine.choose(now, choices(request))
        number = request.query_params.get("page", "1")
        made, _source = await engine.handout(job)
        if not number.isdigit() or not 1 <= int(number) <= len(made.images):
            raise HTTPException(404, "No such page.")
        return Response(made.images[int(number) - 1], media_type="image/png",
                        headers={"cache-control": "private, max-age=60"})

    async def pdf_get(request: Request) -> Response:
        now = state()
        job = engine.choose(now, choices(request))
        made, _source = await engine.handout(job, images=False)
        return _pdf(made.pdf, _filename(job), request.query_params.get("download") == "1")

    async def pdf_post(request: Request) -> Response:
        fields = await form_of(request)
        now = state()
        job = engine.choose(now, fields)
        personal = _personal(fields)
        download = fields.get("action") != "open"
        if not personal:
            made, _source = await engine.handout(job, images=False)
            return _pdf(made.pdf, _filename(job), download)
        data = await engine.personal(job, personal)
        response = _pdf(data, "handout.pdf", download)
        response.headers["cache-control"] = "no-store"
        response.headers["pragma"] = "no-cache"
        return response

    async def packet_get(request: Request) -> Response:
        now = state()
        chosen = set(request.query_params.getlist("item"))
        brand = engine.brand(now, request.query_params.get("brand", "")[:64])
        return page(request, "packet.html", entries=engine.offered(now), chosen=chosen, paper=now.paper,
                    languages=_all_languages(engine, now), **print_context(request, now), **brands(now, brand))

    async def packet_post(request: Request) -> Response:
        fields = await form_of(request)
        form = await request.form()
        now = state()
        items = [v for v in form.getlist("item") if isinstance(v, str)][:20]
        if not items:
            raise UsageError("choose at least one handout for the packet")
        jobs = []
        for item in items:
            topic, _, kind = item.partition(":")
            jobs.append(engine.choose(now, {**fields, "topic": topic, "kind": kind}))
        made = await engine.packet(jobs)
        return _pdf(made.pdf, "packet.pdf", fields.get("action") != "open")

    async def sign_in_get(request: Request) -> Response:
        return page(request, "sign_in.html", failed=False)

    async def sign_in_post(request: Request) -> Response:
        fields = await form_of(request)
        given = fields.get("token", "")
        if not settings.token:
            return RedirectResponse("/", 303)
        if not secrets.compare_digest(given.encode(), settings.token.encode()):
            return page(request, "sign_in.html", status=401, failed=True)
        response = RedirectResponse("/", 303)
        response.set_cookie(ACCESS_COOKIE, settings.access_value(), httponly=True, samesite="strict",
                            secure=settings.secure_cookies)
        return response

    async def infobutton(request: Request) -> Response:
        """Answer an EHR's HL7 Infobutton request (handouts.serve.infobutton): Atom, JSON or a page."""
        from handouts.serve import infobutton as ib

        asked = ib.ask(request.query_params)
        now = state()
        brand = engine.brand(now, request.query_params.get("brand", "")[:64])
        base = (settings.public_url or str(request.base_url)).rstrip("/")
        branded = engine.brand_query(now, brand)
        found = ib.find(engine, now, asked, base, branded)
        clinic = next(b.clinic for b in now.brands if b.name == brand)
        data = ib.as_dict(asked, found, clinic, base, branded)
        if asked.response == "json":
            return JSONResponse(data)
        if asked.response == "html":
            return page(request, "infobutton.html", feed=data["feed"], found=found, asked=asked,
                        reviewed_only=now.reviewed_only)
        kind = request.query_params.get("knowledgeResponseType", "").strip().lower()
        media = kind if kind in ("text/xml", "application/xml") else "application/atom+xml"
        return Response(ib.atom(data), media_type=f"{media}; charset=utf-8")

    async def health(request: Request) -> Response:
        try:
            now = state()
            status, topics = "ok", len({e.topic for e in now.entries})
        except HandoutsError:
            status, topics = "workspace has errors", 0
        pool = engine.pool
        return JSONResponse({"status": status, "topics": topics, "workers": pool.workers() if pool else 0,
                             "renders": engine.renders, "served_built": engine.served_built},
                            status_code=200 if status == "ok" else 503, headers={"cache-control": "no-store"})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise HTTPException(404, "Not found.")
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC[name],
                        headers={"cache-control": "max-age=300"})

    async def font(request: Request) -> Response:
        path = fonts.get(request.path_params["name"])
        if path is None:
            raise HTTPException(404, "Not found.")
        kind = "font/ttf" if path.suffix == ".ttf" else "font/otf"
        return Response(path.read_bytes(), media_type=kind, headers={"cache-control": "max-age=86400"})

    async def failed(request: Request, exc: Exception) -> Response:
        error_id = secrets.token_hex(4)
        if isinstance(exc, HTTPException):
            status, lines = exc.status_code, [str(exc.detail)]
        elif isinstance(exc, BodyTooLarge):
            status, lines = 413, [f"The request is larger than {settings.max_body} bytes."]
        elif isinstance(exc, NotOffered):
            status, lines = 404, exc.lines()
        elif isinstance(exc, HandoutsError):
            from handouts.commands import RefusedError

            status = 403 if isinstance(exc, RefusedError) else 400 if isinstance(exc, UsageError) else 500
            lines = exc.notes() + exc.lines()
        else:
            status, lines = 500, ["Something went wrong on the server. Please try again, or tell your IT contact "
                                  "the error id below."]
        # the log names the error, never a request's fields (they may be a patient's)
        log.warning("error %s: %s %s -> %d (%s)", error_id, request.method, request.url.path, status,
                    type(exc).__name__, exc_info=settings.debug and status == 500)
        response = page(request, "error.html", status=status, lines=lines, error_id=error_id)
        response.headers["cache-control"] = "no-store"
        return response

    routes = [
        *print_routes(engine, page, form_of, _personal, settings.secure_cookies),  # POST /print (issue 17)
        Route("/", index),
        Route("/handout", handout),
        Route("/preview", preview),
        Route("/pdf", pdf_get, methods=["GET"]),
        Route("/pdf", pdf_post, methods=["POST"]),
        Route("/packet", packet_get, methods=["GET"]),
        Route("/packet", packet_post, methods=["POST"]),
        Route("/sign-in", sign_in_get, methods=["GET"]),
        Route("/sign-in", sign_in_post, methods=["POST"]),
        Route("/infobutton", infobutton, methods=["GET"]),
        Route("/health", health),
        Route("/static/{name}", static),
        Route("/fonts/{name}", font),
        # issue 17 (print to a CUPS printer) adds its routes here
    ]
    app = Starlette(routes=routes, exception_handlers={Exception: failed, HTTPException: failed,
                                                       HandoutsError: failed, BodyTooLarge: failed})

    async def each_request_checks_afresh(scope: Any, receive: Any, send: Any) -> None:
        token = seen.set(None)  # this request has not looked at the workspace yet
        try:
            await app(scope, receive, send)
        finally:
            seen.reset(token)

    return Guard(each_request_checks_afresh, settings)


def _query(job: Any, brand: dict[str, str]) -> str:
    """Return a handout's choices as a link's query; brand is Engine.brand_query's (none, or the brand)."""
    return urlencode({"topic": job.topic, "kind": job.kind, "length": job.length, "lang": job.lang,
                      "paper": job.paper, "large": "1" if job.large else "0", **brand})


def _filename(job: Any) -> str:
    large = "-large" if job.large else ""
    brand = f"-{job.brand}" if job.brand != DEFAULT_BRAND else ""
    return f"{job.topic}-{job.kind}-{job.length}-{job.lang}-{job.paper}{large}{brand}.pdf"


def _pdf(data: bytes, name: str, download: bool) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": f'{disposition}; filename="{name}"'})


def _personal(fields: dict[str, str]) -> Any:
    """Return the patient fields of a form (a Personal), checked for length and form; never echoed."""
    from handouts.compose.personal import Personal

    values: dict[str, Any] = {}
    for name, limit in FIELD_LIMITS.items():
        text = " ".join(fields.get(name, "").split())
        if len(text) > limit:
            raise UsageError(f"the field '{name.replace('_', ' ')}' is longer than {limit} characters")
        values[name] = text or None
    follow_up = fields.get("follow_up", "").strip()
    if follow_up:
        try:
            values["follow_up"] = date.fromisoformat(follow_up)
        except ValueError:
            raise UsageError("the follow-up date must be a date such as 2027-01-15") from None
    return Personal(**values)


def _all_languages(engine: Engine, state: State) -> list[Any]:
    seen: dict[str, Any] = {}
    for entry in engine.offered(state):
        for language in engine.languages(state, entry):
            seen.setdefault(language.code, language)
    return sorted(seen.values(), key=lambda lang: (lang.code != "en", lang.code))


__all__ = ["create_app", "Entry"]
