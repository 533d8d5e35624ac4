"""A clinic's workspace: its config, its topics, and the search path for templates and styles."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from handouts.errors import HandoutsError
from handouts.vocabulary import DEFAULT_BRAND

if TYPE_CHECKING:  # imported when used: `handouts list` and `--help` stay quick without pydantic
    from handouts.load.catalog import Catalog
    from handouts.load.config import Config

CONFIG_FILE = "handouts.yaml"
_PACKAGE = Path(__file__).resolve().parent.parent


def builtin_dir(name: str) -> Path:
    """Return a built-in folder (templates, styles, data): inside the wheel, or the checkout."""
    installed = _PACKAGE / "_builtin" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


def find_root(start: Path | None = None) -> Path:
    """Return the nearest folder at or above start that holds handouts.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise HandoutsError(
        f"no {CONFIG_FILE} in {here} or its parents; run 'handouts init DIR' to make a workspace, "
        "or pass --workspace DIR"
    )


@dataclass
class Workspace:
    """One clinic's folder: handouts.yaml, data/, and optional templates/ and styles/ overrides."""

    root: Path

    def __post_init__(self) -> None:
        # resolved: every containment check compares real paths with folders of this root
        self.root = Path(self.root).resolve()

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open the workspace at path (a str or a Path), or the one around the current folder."""
        if path is not None and not (Path(path) / CONFIG_FILE).is_file():
            raise HandoutsError(f"no {CONFIG_FILE} in {path}; run 'handouts init {path}' to make one")
        return cls(find_root(None if path is None else Path(path)))

    @cached_property
    def config(self) -> Config:
        """Return the validated handouts.yaml."""
        from handouts.load.config import load_config

        return load_config(self.root / CONFIG_FILE, self.root, self.font_families())

    def font_families(self) -> list[str] | None:
        """Return the families styles/fonts.css declares, or None when it cannot be read (the renderer says why)."""
        from handouts.render.glyphs import declared_fonts

        try:
            return list(declared_fonts(self.search_path("styles")))
        except (HandoutsError, OSError, UnicodeDecodeError):
            return None

    @cached_property
    def catalog(self) -> Catalog:
        """Return every topic, validated."""
        from handouts.load.catalog import load_catalog

        return load_catalog(self.topics_dir, self.root, self.assets_dir)

    @property
    def topics_dir(self) -> Path:
        """Return data/topics."""
        return self.root / "data" / "topics"

    @property
    def assets_dir(self) -> Path:
        """Return data/assets: the logo and any image a template shows."""
        return self.root / "data" / "assets"

    @property
    def output_dir(self) -> Path:
        """Return the default output folder."""
        return self.root / "output"

    def search_path(self, kind: str) -> list[Path]:
        """Return where templates or styles are looked up: the workspace first, built-ins last."""
        own = self.root / kind
        builtin = builtin_dir(kind)
        folders = [own] if own.is_dir() else []
        if not folders or own.resolve() != builtin.resolve():
            folders.append(builtin)
        return folders

    def asset_roots(self) -> list[Path]:
        """Return the only folders the renderer may read files from."""
        return [*self.search_path("styles"), self.assets_dir]

    def input_paths(self) -> list[Path]:
        """Return the files and folders a build of this workspace reads (the built-ins included)."""
        return [self.root / CONFIG_FILE, self.root / "data", *self.search_path("templates"),
                *self.search_path("styles")]

    @property
    def brand(self) -> str:
        """Return the brand this workspace prints: its own handouts.yaml's clinic (see load.brands)."""
        return DEFAULT_BRAND

    def logo_file(self, logo: str) -> tuple[Path, Path]:
        """Return the logo's path and the folder it must stay in."""
        return self.assets_dir / logo, self.assets_dir

    def for_brand(self, name: str) -> Workspace:
        """Return this workspace as brand name sees it (brands/<name>.yaml; itself for the default)."""
        from handouts.load.brands import open_brand

        return open_brand(self, name)
