"""Render HTML to PDF with WeasyPrint, reading files only from the workspace's asset folders."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from handouts.errors import HandoutsError, RenderError, display_path
from handouts.files import contained
from handouts.render import breaks, raised, runs, tounicode
from handouts.render.glyphs import FONTS_CSS, font_faces

#: Stylesheets every handout gets, looked up by name along the styles search path.
STYLESHEETS = ("handout.css", "custom.css")
#: How many times a handout is laid out again to keep headings with two lines (handouts.render.breaks).
KEEP_PASSES = 3


@dataclass(frozen=True)
class Rendered:
    """A finished PDF in memory."""

    pdf: bytes
    pages: int
    #: The text colours of the pages (handouts.render.contrast), when asked for.
    colours: tuple[Any, ...] = ()


class Renderer:
    """Keeps WeasyPrint, fonts and parsed stylesheets loaded across handouts."""

    def __init__(self, style_dirs: list[Path], asset_roots: list[Path], root: Path | None = None) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        tounicode.install()  # right-to-left ligatures read back in logical order
        raised.install()  # vowel marks on their line, not risen off it
        runs.install()  # a right-to-left line's runs drawn in reading order
        self._weasyprint = weasyprint
        self.root = root
        # as written, not resolved: a folder that is itself a link to elsewhere is not an asset folder
        self.asset_roots = [Path(os.path.abspath(p)) for p in asset_roots]
        self.fetcher = _fetcher_class()(self.asset_roots, root)
        self.font_config = FontConfiguration()
        self.stylesheets = []
        with css_warnings():  # handouts.render.stylecheck reports them, with file and line, once per run
            for name in STYLESHEETS:
                path = _find(style_dirs, name, root)
                if path is not None:
                    self.stylesheets.append(self._css(path, _read_text(path, root)))
        self._fonts_path = _find(style_dirs, FONTS_CSS, root)

        faces = font_faces(_read_text(self._fonts_path, root)) if self._fonts_path else {}
        self._font_rules = {family: "\n".join(f.rules) for family, f in faces.items()}
        self._font_css: dict[str, Any] = {}
        #: Families whose fonts could not be loaded, with why: every handout using one fails.
        self._font_failures: dict[str, str] = {}

    def _css(self, path: Path, text: str) -> Any:
        try:
            return self._weasyprint.CSS(
                string=text, base_url=path.resolve().as_uri(), url_fetcher=self.fetcher, font_config=self.font_config
            )
        except self._weasyprint.urls.FatalURLFetchingError as exc:
            raise RenderError(f"{display_path(path, self.root)}: {exc.__cause__ or exc}") from None
        except MemoryError:
            raise
        except OSError as exc:  # e.g. no room for the temporary copy of a font
            raise RenderError(f"{display_path(path, self.root)}: {exc.strerror or exc}") from None
        except Exception as exc:  # WeasyPrint reports CSS problems as plain exceptions
            raise RenderError(f"{display_path(path, self.root)}: {exc}") from None

    def font_stylesheets(self, families: tuple[str, ...]) -> list[Any]:
        """Return the @font-face stylesheets of these families, loading each family's files once."""
        sheets = []
        for family in families:
            if family in self._font_failures:
                raise RenderError(self._font_failures[family])
            if family not in self._font_css and family in self._font_rules:
                assert self._fonts_path is not None
                with self._watch() as problems:
                    self._font_css[family] = self._css(self._fonts_path, self._font_rules[family])
                if problems:
                    self._font_failures[family] = problems[0]
                    raise RenderError(problems[0])
            if family in self._font_css:
                sheets.append(self._font_css[family])
        return sheets

    @contextmanager
    def _watch(self) -> Iterator[list[str]]:
        """Collect, while the block runs, a line for every resource WeasyPrint refused or could not
        load or draw (it only logs those and goes on without them)."""
        handler = _ResourceProblems(self)
        logger = logging.getLogger("weasyprint")
        logger.addHandler(handler)
        try:
            yield handler.lines
        finally:
            logger.removeHandler(handler)

    def describe(self, record: logging.LogRecord) -> str | None:
        """Return one line naming the file of a WeasyPrint log record about a resource, or None."""
        message = str(record.msg)
        args = record.args if isinstance(record.args, tuple) else ()
        refused = self.fetcher.refused[-1] if self.fetcher.refused else None
        if message.startswith("Failed to render SVG image") and args:
            return f"{self._shown(args[0])}: SVG image not drawn: {refused or 'WeasyPrint could not draw it'}"
        if message.startswith("Failed to load image at") and args:
            reason = refused or "the file is damaged or not an image format WeasyPrint reads"
            return f"{self._shown(args[0])}: image not drawn: {reason}"
        if message.startswith("Font-face") and args:
            family = str(args[0])
            files = ", ".join(self._shown(url) for url in _urls(self._font_rules.get(family, "")))
            where = display_path(self._fonts_path, self.root) if self._fonts_path else FONTS_CSS
            return (f"{where}: font '{family}' cannot be loaded from {files or 'its src'} "
                    f"({refused or 'a file that is not a font, or that cannot be read'})")
        if record.levelno >= logging.ERROR:  # WeasyPrint logs errors only for resources it cannot use
            return record.getMessage()
        return None

    def _shown(self, url: Any) -> str:
        """Return a file URL (or a path relative to the fonts stylesheet) as a path to show."""
        text = str(url)
        parts = urlsplit(text)
        if parts.scheme == "file":
            return display_path(Path(unquote(parts.path)), self.root)
        if not parts.scheme and self._fonts_path is not None:
            return display_path(self._fonts_path.parent / unquote(text), self.root)
        return text

    def layout(self, html: str, base_url: Path, fonts: tuple[str, ...] = ("Noto Sans",)) -> Any:
        """Lay out html into pages (a WeasyPrint Document), without making the PDF."""
        weasyprint = self._weasyprint
        self.fetcher.refused.clear()
        stylesheets = [*self.font_stylesheets(("*", *fonts)), *self.stylesheets]
        try:
            with self._watch() as problems:
                source = weasyprint.HTML(
                    string=html, base_url=base_url.resolve().as_uri() + "/", url_fetcher=self.fetcher
                )
                document = source.render(stylesheets=stylesheets, font_config=self.font_config, pdf_tags=True)
                # A heading left with a single line under it at the foot of a page: keep that line
                # with the next and lay out again (a few times at most: each pass moves lines down).
                for _ in range(KEEP_PASSES):
                    if not breaks.keep_with_next(document):
                        break
                    document = source.render(stylesheets=stylesheets, font_config=self.font_config, pdf_tags=True)
        except weasyprint.urls.FatalURLFetchingError as exc:
            raise RenderError(str(exc.__cause__ or exc)) from None
        if problems:
            raise RenderError(problems[0])
        if self.fetcher.refused:
            raise RenderError(self.fetcher.refused[0])
        return document

    def render(self, html: str, base_url: Path, fonts: tuple[str, ...] = ("Noto Sans",), *,
               measure_colours: bool = False) -> Rendered:
        """Lay out html and return the PDF bytes and page count.

        Images (SVG images above all) are drawn only now: any WeasyPrint refused or could not draw
        fails the handout, so a PDF never silently lacks one.
        """
        document = self.layout(html, base_url, fonts)
        try:
            with self._watch() as problems:
                pdf = document.write_pdf(pdf_variant="pdf/ua-1")
        except self._weasyprint.urls.FatalURLFetchingError as exc:  # a BaseException: attachments
            raise RenderError(str(exc.__cause__ or exc)) from None
        if problems:
            raise RenderError(problems[0])
        if self.fetcher.refused:
            raise RenderError(self.fetcher.refused[0])
        colours: tuple[Any, ...] = ()
        if measure_colours:
            from handouts.render.contrast import text_colours

            colours = tuple(text_colours(document))
        return Rendered(pdf, len(document.pages), colours)


@contextmanager
def css_warnings() -> Iterator[list[logging.LogRecord]]:
    """Collect the warnings WeasyPrint logs while the block runs, and keep them from every log handler.

    WeasyPrint warns about CSS it ignores (an unknown property, a bad value) and goes on; the CSS
    check collects these warnings and reports each once, with file and line. Errors (a resource
    that cannot be loaded) still reach the handlers.
    """
    records: list[logging.LogRecord] = []

    def keep(record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            records.append(record)
            return False
        return True

    logger = logging.getLogger("weasyprint")
    logger.addFilter(keep)
    try:
        yield records
    finally:
        logger.removeFilter(keep)


class _ResourceProblems(logging.Handler):
    """A logging handler that turns WeasyPrint's log records about resources into lines for a RenderError."""

    def __init__(self, renderer: Renderer) -> None:
        super().__init__(logging.WARNING)
        self.renderer = renderer
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.renderer.describe(record)
        if line is not None:
            self.lines.append(line)


_URL = re.compile(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""")


def _urls(css: str) -> list[str]:
    """Return the url(...) values of some CSS text, in order, each once."""
    return list(dict.fromkeys(_URL.findall(css)))


def _find(folders: list[Path], name: str, root: Path | None = None) -> Path | None:
    """Return the real path of the first folders/name, checked to be a regular file inside its folder."""
    for folder in folders:
        if os.path.lexists(folder / name):
            return contained(folder / name, folder, root)
    return None


def _read_text(path: Path, root: Path | None = None) -> str:
    """Return a stylesheet's text; raise RenderError naming it when it is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RenderError(f"{display_path(path, root)}: not UTF-8 text ({exc.reason})") from None


def _fetcher_class() -> type:
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    from handouts.limits import current as current_limits
    from handouts.load.images import bytes_problem, data_url_bytes, is_image, limits_problem

    class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type information
        """A URL fetcher that serves data: URLs and files inside the asset folders, nothing else."""

        def __init__(self, roots: list[Path], root: Path | None = None) -> None:
            super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
            self.roots = roots
            self.root = root  # the workspace: messages name files relative to it
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
            parts = urlsplit(url)
            if parts.scheme == "data":  # a template may write one: the same limits as an image file
                problem = bytes_problem(data_url_bytes(url), current_limits())
                if problem:
                    message = f"an image in a data: URL: {problem}"
                    self.refused.append(message)
                    raise FatalURLFetchingError(message)
                return super().fetch(url, headers)
            if parts.scheme != "file":
                message = f"refused to fetch {url}: handouts reads only files inside its asset folders"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            path = Path(os.path.abspath(unquote(parts.path)))
            folder = next((root for root in self.roots if path.is_relative_to(root)), None)
            if folder is None:
                message = (f"refused to read {display_path(path, self.root)}: it is outside the asset folders "
                           "(styles/, data/assets/)")
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            try:
                real = contained(path, folder, self.root)
            except HandoutsError as exc:
                self.refused.append(str(exc))
                raise FatalURLFetchingError(str(exc)) from None
            # every image, wherever it is named (a figure, the logo, a template, a style): its bytes
            # and its pixels, from the header, before Pillow decodes it
            problem = limits_problem(real, current_limits()) if is_image(real) else None
            if problem:
                message = f"{display_path(path, self.root)}: {problem}"
                self.refused.append(message)
                raise FatalURLFetchingError(message)
            return super().fetch(real.as_uri(), headers)

    return AssetFetcher
