"""handouts: printable patient-education handouts from YAML topics, Jinja2 templates and WeasyPrint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .pipeline import Builder, build
    from .planning import Job, Report, Result, plan
    from .workspace import Workspace

__all__ = ["Builder", "Job", "Report", "Result", "Workspace", "__version__", "build", "plan"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that `handouts --help` never loads pydantic or WeasyPrint.
    if name in ("Job", "Report", "Result", "plan"):
        from . import planning as _plan

        return getattr(_plan, name)
    if name in ("Builder", "build"):
        from . import pipeline as _pipeline

        return getattr(_pipeline, name)
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    raise AttributeError(name)
