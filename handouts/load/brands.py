"""Brands: one reviewed catalog printed for many clinics, each described by brands/<name>.yaml.

A brand file holds one `clinic:` block like handouts.yaml's. Its logo is looked up in the brand's
own folder (brands/<name>/) first, then in data/assets/; brands/<name>/templates and
brands/<name>/styles come before the workspace's own in the search path. Content, review and the
build defaults stay the workspace's: a brand changes only who the handout comes from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from handouts.errors import ContentError, Problem, UsageError, display_path
from handouts.load.languages import LANGUAGE_TAG
from handouts.load.workspace import Workspace
from handouts.vocabulary import DEFAULT_BRAND

if TYPE_CHECKING:
    from handouts.load.catalog import Catalog
    from handouts.load.config import Clinic, Config

BRANDS_DIR = "brands"
#: What `--brand` takes to mean every brand file.
ALL = "all"
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,62}")
#: A language's handouts go to output/<lang>/: a brand may not look like one, in any case (a file
#: system may not tell zh-hans from zh-Hans).
_LANGUAGE_LIKE = re.compile(LANGUAGE_TAG.pattern, re.IGNORECASE)


def name_problem(name: str) -> str | None:
    """Return why name cannot name a brand, or None."""
    if not _SLUG.fullmatch(name):
        from handouts.names import slug_rule

        return f"{slug_rule('brand', name)}, at most 63 characters"
    if name in (DEFAULT_BRAND, ALL):
        return f"brand name '{name}' is reserved (--brand {name} means {_RESERVED[name]})"
    if _LANGUAGE_LIKE.fullmatch(name):
        return (f"brand name '{name}' looks like a language code, whose handouts go to output/{name}/; "
                "choose another name")
    return None


_RESERVED = {DEFAULT_BRAND: "the clinic in handouts.yaml", ALL: "every file in brands/"}


def brands_dir(workspace: Workspace) -> Path:
    """Return the workspace's brands/ folder."""
    return workspace.root / BRANDS_DIR


def brand_names(workspace: Workspace) -> list[str]:
    """Return the names of the brand files in brands/ (sorted); raise ContentError for a badly named one."""
    folder = brands_dir(workspace)
    if not folder.is_dir():
        return []
    names: list[str] = []
    problems: list[Problem] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("."):
            continue
        problem = name_problem(path.stem) if path.suffix == ".yaml" else "a brand file ends in .yaml"
        if problem:
            problems.append(Problem(display_path(path, workspace.root), None, "", problem))
        else:
            names.append(path.stem)
    if problems:
        raise ContentError(problems)
    return names


def resolve(workspace: Workspace, asked: str | Sequence[str]) -> list[str]:
    """Return the brands a build makes for --brand values: names, `default` (handouts.yaml) or `all`.

    Each name must be a slug with a file brands/<name>.yaml; raise UsageError naming what is wrong.
    """
    values = [asked] if isinstance(asked, str) else list(asked)
    if not values:
        return [DEFAULT_BRAND]
    chosen: list[str] = []
    for value in values:
        if value == ALL:
            found = brand_names(workspace)
            if not found:
                raise UsageError(f"--brand all: no brand files in {BRANDS_DIR}/ (add {BRANDS_DIR}/<name>.yaml)")
            chosen.extend(found)
            continue
        if value != DEFAULT_BRAND:
            problem = name_problem(value)
            if problem:
                raise UsageError(f"--brand {value}: {problem}")
            if not (brands_dir(workspace) / f"{value}.yaml").is_file():
                from handouts.names import did_you_mean

                names = brand_names(workspace)
                raise UsageError(f"--brand {value}: no file {BRANDS_DIR}/{value}.yaml (brands: "
                                 f"{', '.join(names) or 'none'}){did_you_mean(value, names)}")
        chosen.append(value)
    return list(dict.fromkeys(chosen))


@dataclass
class BrandWorkspace(Workspace):
    """The workspace seen through one brand: its clinic, its logo and its template and style overrides.

    Everything else (topics, defaults, checks) is the workspace's own, and the catalog is loaded once.
    """

    base: Workspace = field(default=None)  # type: ignore[assignment]
    name: str = DEFAULT_BRAND

    @property
    def brand(self) -> str:
        """Return the brand's name."""
        return self.name

    @property
    def brand_file(self) -> Path:
        """Return brands/<name>.yaml."""
        return brands_dir(self) / f"{self.name}.yaml"

    @property
    def brand_dir(self) -> Path:
        """Return brands/<name>/: the brand's logo and its templates/ and styles/ overrides."""
        return brands_dir(self) / self.name

    @cached_property
    def config(self) -> Config:
        """Return handouts.yaml with the clinic of the brand file."""
        return self.base.config.model_copy(update={"clinic": load_clinic(self)})

    @cached_property
    def catalog(self) -> Catalog:
        """Return the workspace's topics (shared by every brand)."""
        return self.base.catalog

    def search_path(self, kind: str) -> list[Path]:
        """Return the brand's own folder first, then the workspace's search path."""
        own = self.brand_dir / kind
        return ([own] if own.is_dir() else []) + self.base.search_path(kind)

    def asset_roots(self) -> list[Path]:
        """Return the folders the renderer may read: the styles, the brand's folder and data/assets."""
        return [*self.search_path("styles"), self.brand_dir, self.assets_dir]

    def input_paths(self) -> list[Path]:
        """Return the files and folders a build for this brand reads: the workspace's, its file and folder."""
        return [*super().input_paths(), self.brand_file, self.brand_dir]

    def for_brand(self, name: str) -> Workspace:
        """Return the workspace as another brand sees it."""
        return self if name == self.name else self.base.for_brand(name)

    def logo_file(self, logo: str) -> tuple[Path, Path]:
        """Return the logo's path and the folder it must stay in: the brand's folder if it is there."""
        own = self.brand_dir / logo
        if os.path.lexists(own):
            return own, self.brand_dir
        return super().logo_file(logo)


def open_brand(workspace: Workspace, name: str) -> Workspace:
    """Return the workspace as brand name sees it (the workspace itself for the default brand)."""
    if name == DEFAULT_BRAND:
        return workspace
    return BrandWorkspace(workspace.root, base=workspace, name=name)


def load_clinic(workspace: BrandWorkspace) -> Clinic:
    """Read and validate a brand file; raise ContentError listing every problem with file, line and field."""
    from pydantic import ValidationError

    from handouts.limits import current as current_limits
    from handouts.load import yamlio
    from handouts.load.config import BrandConfig
    from handouts.load.explain import validation_problems
    from handouts.load.images import asset_problem

    doc = yamlio.load(workspace.brand_file, workspace.root)
    if not isinstance(doc.data, dict):
        raise ContentError([doc.problem((), "expected a mapping with one field, clinic")])
    try:
        clinic = BrandConfig.model_validate(doc.data).clinic
    except ValidationError as exc:
        raise ContentError(validation_problems(doc, exc, BrandConfig)) from None
    if clinic.logo is not None:
        path, folder = workspace.logo_file(clinic.logo)
        shown = f"{display_path(folder, workspace.root)}/"
        problem = asset_problem(clinic.logo, folder, workspace.root, current_limits(), "the logo", shown)
        if problem:
            raise ContentError([doc.problem(("clinic", "logo"), problem)])
    return clinic


def field_line(workspace: Workspace, loc: tuple[str, ...]) -> str | None:
    """Return 'brands/<name>.yaml:LINE: FIELD' for a field of a brand file, or None for the default brand."""
    if not isinstance(workspace, BrandWorkspace):
        return None
    from handouts.load import yamlio

    doc = yamlio.load(workspace.brand_file, workspace.root)
    problem = doc.problem(loc, "")
    return str(problem).removesuffix(": ")
