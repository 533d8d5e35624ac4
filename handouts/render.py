"""Render HTML to PDF with WeasyPrint, reading files only from the workspace's asset folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import tounicode
from .errors import RenderError, display_path

#: Stylesheets every handout gets, looked up by name along the styles search path.
STYLESHEETS = ("handout.css", "custom.css")
#: The @font-face rules; each family's files are loaded only when a handout uses it.
FONTS_CSS = "fonts.css"


@dataclass(frozen=True)
class Rendered:
    """A finished PDF in memory."""

    pdf: bytes
    pages: int


class Renderer:
    """Keeps WeasyPrint, fonts and parsed stylesheets loaded across handouts."""

    def __init__(self, style_dirs: list[Path], asset_roots: list[Path], root: Path | None = None) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        tounicode.install()  # right-to-left ligatures read back in logical order
        self._weasyprint = weasyprint
        self.root = root
        self.asset_roots = [p.resolve() for p in asset_roots]
        self.fetcher = _fetcher_class()(self.asset_roots)
        self.font_config = FontConfiguration()
        self.stylesheets = []
        for name in STYLESHEETS:
            path = _find(style_dirs, name)
            if path is not None:
                self.stylesheets.append(self._css(path, path.read_text(encoding="utf-8")))
        self._fonts_path = _find(style_dirs, FONTS_CSS)
        self._font_rules = _font_faces(self._fonts_path) if self._fonts_path else {}
        self._font_css: dict[str, Any] = {}

    def _css(self, path: Path, text: str) -> Any:
        try:
            return self._weasyprint.CSS(
                string=text, base_url=path.resolve().as_uri(), url_fetcher=self.fetcher, font_config=self.font_config
            )
        except self._weasyprint.urls.FatalURLFetchingError as exc:
            raise RenderError(f"{display_path(path, self.root)}: {exc.__cause__ or exc}") from None
        except Exception as exc:  # WeasyPrint reports CSS problems as plain exceptions
            raise RenderError(f"{display_path(path, self.root)}: {exc}") from None

    def font_stylesheets(self, families: tuple[str, ...]) -> list[Any]:
        """Return the @font-face stylesheets of these families, loading each family's files once."""
        sheets = []
        for family in families:
            if family not in self._font_css and family in self._font_rules:
                assert self._fonts_path is not None
                self._font_css[family] = self._css(self._fonts_path, self._font_rules[family])
            if family in self._font_css:
                sheets.append(self._font_css[family])
        return sheets

    def layout(self, html: str, base_url: Path, fonts: tuple[str, ...] = ("Noto Sans",)) -> Any:
        """Lay out html into pages (a WeasyPrint Document), without making the PDF."""
        weasyprint = self._weasyprint
        stylesheets = [*self.font_stylesheets(("*", *fonts)), *self.stylesheets]
        self.fetcher.refused.clear()
        try:
            document = weasyprint.HTML(
                string=html, base_url=base_url.resolve().as_uri() + "/", url_fetcher=self.fetcher
            ).render(stylesheets=stylesheets, font_config=self.font_config, pdf_tags=True)
        except weasyprint.urls.FatalURLFetchingError as exc:
            raise RenderError(str(exc.__cause__ or exc)) from None
        if self.fetcher.refused:
            raise RenderError(self.fetcher.refused[0])
        return document

    def render(self, html: str, base_url: Path, fonts: tuple[str, ...] = ("Noto Sans",)) -> Rendered:
        """Lay out html and return the PDF bytes and page count."""
        document = self.layout(html, base_url, fonts)
        pdf = document.write_pdf(pdf_variant="pdf/ua-1")
        return Rendered(pdf, len(document.pages))


def _find(folders: list[Path], name: str) -> Path | None:
    return next((d / name for d in folders if (d / name).is_file()), None)


def _font_faces(path: Path) -> dict[str, str]:
    """Split a fonts.css into the text of its @font-face rules, grouped by family."""
    import tinycss2

    rules: dict[str, list[str]] = {}
    for rule in tinycss2.parse_stylesheet(path.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True):
        family = "*"
        if rule.type == "at-rule" and rule.lower_at_keyword == "font-face" and rule.content is not None:
            for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type == "declaration" and decl.lower_name == "font-family":
                    family = "".join(t.value if t.type == "string" else t.serialize() for t in decl.value).strip()
        rules.setdefault(family, []).append(rule.serialize())
    return {family: "\n".join(texts) for family, texts in rules.items()}


def _fetcher_class() -> type:
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class AssetFetcher(URLFetcher):
        """A URL fetcher that serves data: URLs and files inside the asset folders, nothing else."""

        def __init__(self, roots: list[Path]) -> None:
            super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
            self.roots = roots
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme != "file":
                message = f"refused to fetch {url}: handouts reads only files inside its asset folders"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self.roots):
                message = f"refused to read {path}: it is outside the asset folders (styles/, data/assets/)"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            if not path.is_file():
                message = f"file not found: {path}"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            return super().fetch(url, headers)

    return AssetFetcher
