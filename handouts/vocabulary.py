"""The words every stage shares: lengths, page budgets, papers, brands. Imports nothing heavy."""

from __future__ import annotations

from typing import Literal, get_args

Length = Literal["brief", "standard", "detailed"]
#: The lengths of a handout, shortest first.
LENGTHS: tuple[Length, ...] = get_args(Length)
#: Pages each length may fill: brief must fit exactly one page (large print: twice as many).
PAGE_BUDGET: dict[str, int] = {"brief": 1, "standard": 2, "detailed": 4}

Paper = Literal["letter", "a4"]
#: The paper sizes handouts are laid out for.
PAPERS: tuple[Paper, ...] = get_args(Paper)

#: The brand of a workspace's own handouts.yaml (health systems add more, one per clinic).
DEFAULT_BRAND = "default"
