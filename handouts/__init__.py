"""handouts: printable patient-education handouts from YAML topics, Jinja2 templates and WeasyPrint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from handouts.commands import build
    from handouts.jobs.pipeline import Builder
    from handouts.jobs.planning import Job, Report, Result, plan
    from handouts.load.workspace import Workspace

__all__ = ["Builder", "Job", "Report", "Result", "Workspace", "__version__", "build", "plan"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that `handouts --help` never loads pydantic or WeasyPrint.
    if name in ("Job", "Report", "Result", "plan"):
        from handouts.jobs import planning as _plan

        return getattr(_plan, name)
    if name == "Builder":
        from handouts.jobs.pipeline import Builder

        return Builder
    if name == "build":
        from handouts.commands import build

        return build
    if name == "Workspace":
        from handouts.load.workspace import Workspace

        return Workspace
    raise AttributeError(name)
