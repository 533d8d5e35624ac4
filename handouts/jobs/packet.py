"""Packets: several handouts in one PDF, each starting on a right-hand page for duplex printing."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from handouts.errors import UsageError
from handouts.files import write_atomic
from handouts.jobs.pipeline import Builder, render_bounded
from handouts.jobs.planning import Job


def parse_item(text: str) -> tuple[str, str | None]:
    """Split 'topic' or 'topic:kind' into its parts."""
    topic, _, kind = text.partition(":")
    return topic, kind or None


def packet_jobs(builder: Builder, items: Sequence[str], length: str, lang: str, paper: str,
                large: bool = False) -> list[Job]:
    """Return the jobs of a packet, in the order given; 'topic' alone means all its kinds."""
    from handouts.jobs.planning import plan

    jobs: list[Job] = []
    for item in items:
        topic, kind = parse_item(item)
        jobs.extend(plan(builder.workspace, [topic], [kind] if kind else [], [length], [lang], [paper], (large,)))
    if not jobs:
        raise UsageError("name at least one handout, e.g. sciatica:overview")
    return jobs


def make_packet(builder: Builder, jobs: Sequence[Job], target: Path) -> int:
    """Render jobs, join them (blank pages so each starts on an odd page), bookmark each; return pages.

    target "-" writes the packet to standard output.
    """
    data, pages = join_packet(builder, jobs)
    if str(target) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(target, data)
    return pages


def join_packet(builder: Builder, jobs: Sequence[Job]) -> tuple[bytes, int]:
    """Return the packet of jobs as PDF bytes in memory, and its pages (the web page's packets)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter()
    titles: list[str] = []
    meta: dict[str, str] = {}
    for job in jobs:
        if len(writer.pages) % 2 == 1:  # the next handout must start on a right-hand (odd) page
            last = writer.pages[-1]
            writer.add_blank_page(width=last.mediabox.width, height=last.mediabox.height)
        start = len(writer.pages)
        rendered = render_bounded(builder, job)
        reader = PdfReader(io.BytesIO(rendered.pdf))
        for page in reader.pages:
            writer.add_page(page)
        info: dict[str, Any] = dict(reader.metadata or {})
        title = str(info.get("/Title") or job)
        titles.append(title)
        writer.add_outline_item(title=title, page_number=start)
        if not meta:
            meta = {k: str(v) for k, v in info.items() if k in ("/Author", "/Creator", "/Producer", "/CreationDate")}
    writer.add_metadata({**meta, "/Title": " · ".join(titles)})
    writer.root_object[NameObject("/Lang")] = TextStringObject(jobs[0].lang)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), len(writer.pages)
