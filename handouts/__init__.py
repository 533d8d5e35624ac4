"""handouts: printable patient-education handouts from YAML topics, Jinja2 templates and WeasyPrint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .commands import build
    from .pipeline import Builder
    from .planning import Job, Report, Result, plan
    from .workspace import Workspace

__all__ = ["Builder", "Job", "Report", "Result", "Workspace", "__version__", "build", "plan"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that `handouts --help` never loads pydantic or WeasyPrint.
    if name in ("Job", "Report", "Result", "plan"):
        from . import planning as _plan

        return getattr(_plan, name)
    if name == "Builder":
        from .pipeline import Builder

        return Builder
    if name == "build":
        from .commands import build

        return build
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    raise AttributeError(name)
