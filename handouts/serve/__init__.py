"""`handouts serve`: the front desk's local web page, a door on the one engine with its own worker pool."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from handouts.serve.security import Settings, is_loopback
from handouts.vocabulary import DEFAULT_BRAND

__all__ = ["Settings", "is_loopback", "run"]


def run(root: Path, settings: Settings) -> None:
    """Start the worker pool, check the workspace, then serve until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from handouts.serve.app import create_app
    from handouts.serve.engine import Engine
    from handouts.serve.pool import RenderPool

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # created first, from a fork server, while this process has no other thread: workers are never
    # forked from the threaded server
    pool = RenderPool(root, settings.workers)
    try:
        engine = Engine(root, pool, settings.reviewed_only, settings.brands)
        state, _keys = engine.current()  # a workspace with errors is reported now, as by every command
        pool.warm(state.stamp)
        shown = settings.public_url or f"http://{_url_host(settings.host)}:{settings.port}/"
        brands = "" if state.brand_names == [DEFAULT_BRAND] else f" for {', '.join(state.brand_names)}"
        print(f"handouts: serving {root}{brands} at {shown} with {pool.size} worker processes and one for page "
              f"images ({'reviewed handouts only' if state.reviewed_only else 'drafts marked'}); Ctrl-C stops",
              file=sys.stderr, flush=True)
        config = uvicorn.Config(create_app(settings, engine), host=settings.host, port=settings.port,
                                log_level="info", server_header=False, proxy_headers=False, timeout_keep_alive=5,
                                limit_concurrency=200, h11_max_incomplete_event_size=32 * 1024)
        logging.getLogger("uvicorn.access").addFilter(quiet_access_log)  # after the Config set up logging
        uvicorn.Server(config).run()
    finally:
        pool.close()


def quiet_access_log(record: logging.LogRecord) -> bool:
    """Keep an access log line, without the query of any request.

    An EHR's infobutton request carries a diagnosis code and may carry the patient's age and
    gender (the guide's patient context); a search at the front desk carries the code or words
    staff typed for the patient in front of them. Together with the time, that is about a
    patient, so no query is ever written: the path shows which page was asked for.
    """
    args = record.args
    if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
        record.args = (*args[:2], args[2].split("?", 1)[0] + "?...", *args[3:])
    return True


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
