"""The limits on the work one handout may cause: one place, with defaults, set only by whoever runs handouts.

A workspace is not trusted, so nothing in it (handouts.yaml, topics, templates) can change a limit:
they come from the defaults below, or from the environment of the process that runs handouts (and
`handouts --time-limit` for the time per handout). Imports nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from handouts.errors import UsageError

#: The environment variables' common prefix: HANDOUTS_LIMIT_SECONDS_PER_HANDOUT=2, ...
PREFIX = "HANDOUTS_LIMIT_"


@dataclass(frozen=True)
class Limits:
    """How much work one handout may cause. Every limit names its environment variable in its message."""

    #: Seconds one handout may take, from reading its topic to writing its PDF.
    seconds_per_handout: float = 60.0
    #: Extra seconds a worker process gets past seconds_per_handout before it is killed (C code that
    #: never returns to Python cannot be interrupted any other way).
    grace_seconds: float = 10.0
    #: Megabytes of data (RLIMIT_DATA: heap and private memory) a worker process may use.
    worker_memory_mb: int = 2048
    #: Bytes of one YAML file (topic, language file, handouts.yaml).
    yaml_bytes: int = 1_000_000
    #: How deeply mappings and lists may nest in one YAML file.
    yaml_depth: int = 40
    #: Items a template's range() may have.
    template_range: int = 10_000
    #: Characters (or items) a template's string or list repetition, padding or format may make.
    template_string: int = 100_000
    #: Characters a template may output for one handout.
    template_output: int = 2_000_000
    #: Steps (range items, outputs, attribute lookups, calls) one template render may take.
    template_steps: int = 1_000_000
    #: Bytes of one image file a handout shows (a figure, the logo, an image a template or style names).
    image_bytes: int = 5_000_000
    #: Pixels (width x height) of one PNG or JPEG image, read from its header before anything decodes it.
    image_pixels: int = 25_000_000
    #: Megabytes of workspace files a cluster build sends its workers (handouts build --cluster).
    bundle_mb: int = 256

    def variable(self, name: str) -> str:
        """Return the environment variable that sets limit name."""
        return PREFIX + name.upper()


class LimitValueError(UsageError):
    """An environment variable gives a limit a value that is not a positive number."""


def current(environ: dict[str, str] | None = None) -> Limits:
    """Return the limits: the defaults, each replaced by its HANDOUTS_LIMIT_* environment variable if set."""
    env = os.environ if environ is None else environ
    values: dict[str, float | int] = {}
    for field in fields(Limits):
        name = PREFIX + field.name.upper()
        text = env.get(name, "").strip()
        if not text:
            continue
        kind = float if field.type in ("float", float) else int
        try:
            value = kind(text)
        except ValueError:
            raise LimitValueError(f"{name}={text}: not a number") from None
        if not value > 0:
            raise LimitValueError(f"{name}={text}: must be more than 0")
        values[field.name] = value
    return Limits(**values)  # type: ignore[arg-type]
