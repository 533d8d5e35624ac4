"""Render HTML to PDF with WeasyPrint, reading files only from the workspace's asset folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import RenderError, display_path

#: Stylesheets every handout gets, looked up by name along the styles search path.
STYLESHEETS = ("fonts.css", "handout.css", "custom.css")


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

        self._weasyprint = weasyprint
        self.root = root
        self.asset_roots = [p.resolve() for p in asset_roots]
        self.fetcher = _fetcher_class()(self.asset_roots)
        self.font_config = FontConfiguration()
        self.stylesheets = []
        for name in STYLESHEETS:
            path = next((d / name for d in style_dirs if (d / name).is_file()), None)
            if path is None:
                continue
            try:
                css = weasyprint.CSS(
                    filename=str(path), url_fetcher=self.fetcher, font_config=self.font_config
                )
            except Exception as exc:  # WeasyPrint reports CSS problems as plain exceptions
                raise RenderError(f"{display_path(path, root)}: {exc}") from None
            self.stylesheets.append(css)

    def layout(self, html: str, base_url: Path) -> Any:
        """Lay out html into pages (a WeasyPrint Document), without making the PDF."""
        weasyprint = self._weasyprint
        self.fetcher.refused.clear()
        try:
            document = weasyprint.HTML(
                string=html, base_url=base_url.resolve().as_uri() + "/", url_fetcher=self.fetcher
            ).render(stylesheets=self.stylesheets, font_config=self.font_config, pdf_tags=True)
        except weasyprint.urls.FatalURLFetchingError as exc:
            raise RenderError(str(exc.__cause__ or exc)) from None
        if self.fetcher.refused:
            raise RenderError(self.fetcher.refused[0])
        return document

    def render(self, html: str, base_url: Path) -> Rendered:
        """Lay out html and return the PDF bytes and page count."""
        document = self.layout(html, base_url)
        pdf = document.write_pdf(pdf_variant="pdf/ua-1")
        return Rendered(pdf, len(document.pages))


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
