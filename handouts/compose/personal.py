"""Patient fields: printed on one handout, never stored, logged or put in a file name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Personal:
    """What staff fill in for one patient. Lives only in memory for one build."""

    patient_name: str | None = None
    clinician: str | None = None
    follow_up: date | None = None
    note: str | None = None

    def __bool__(self) -> bool:
        return any(value is not None and value != "" for value in vars(self).values())

    def __repr__(self) -> str:
        # Never let a name or a note reach a log line or a traceback by accident.
        return "Personal(<hidden>)" if self else "Personal()"

    __str__ = __repr__
