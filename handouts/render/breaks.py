"""Page breaks that CSS alone cannot keep: a heading with at least two lines of what follows.

handout.css keeps a heading off the foot of a page (`break-after: avoid`) and two lines of a
paragraph together (`orphans`, `widows`), and WeasyPrint 70 honours both. What CSS cannot say
is "keep the heading with two *lines*" when the first thing under it is one line long (a short
list item, a one-line lead-in): it may end a page alone under its heading. The renderer looks
for that in the laid-out pages and asks for `break-after: avoid` on exactly that line, then
lays the handout out again (`Renderer.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The headings that must keep two lines of what follows them in their section or box.
HEADINGS = ("h2",)
#: Lines a heading keeps with it, and lines a paragraph keeps at either side of a break.
LINES = 2


@dataclass(frozen=True)
class Leaf:
    """One block of lines on one page: a paragraph, list item or heading (or the part of it there)."""

    element: Any
    tag: str
    lines: int


@dataclass(frozen=True)
class Problem:
    """A break that leaves a heading or a paragraph's line alone; fix is the element to keep with what follows."""

    page: int
    message: str
    fix: Any = None


def pages_of(document: Any) -> list[list[Leaf]]:
    """Return, for every page of a laid-out WeasyPrint document, its blocks of lines in order."""
    from weasyprint.formatting_structure import boxes

    def leaves(box: Any, out: list[Leaf]) -> None:
        if isinstance(box, boxes.MarginBox):  # the running header and footer
            return
        children = getattr(box, "children", None) or []
        if isinstance(box, boxes.BlockContainerBox) and children and all(
                isinstance(c, boxes.LineBox) for c in children):
            out.append(Leaf(box.element, box.element_tag, len(children)))
            return
        for child in children:
            if isinstance(child, boxes.Box):
                leaves(child, out)

    result = []
    for page in document.pages:
        found: list[Leaf] = []
        leaves(page._page_box, found)
        result.append(found)
    return result


def problems(document: Any) -> list[Problem]:
    """Return every page break that leaves a heading or a paragraph's single line alone."""
    pages = pages_of(document)
    roots = {id(box.element): box.element for page in document.pages for box in page._page_box.children
             if getattr(box, "element_tag", None) == "html"}
    parents = {child: parent for root in roots.values() for parent in root.iter() for child in parent}

    def inside(element: Any, container: Any) -> bool:
        while element is not None:
            if element is container:
                return True
            element = parents.get(element)
        return False

    found = []
    for number, (here, there) in enumerate(zip(pages, pages[1:], strict=False), start=1):
        if not here or not there:
            continue
        for index, leaf in enumerate(here):
            if leaf.tag not in HEADINGS or leaf.element not in parents:
                continue
            container = parents[leaf.element]
            after = [x for x in here[index + 1:] if inside(x.element, container)]
            if sum(x.lines for x in after) < LINES and any(inside(x.element, container) for x in there):
                found.append(Problem(number, f"page {number} ends {sum(x.lines for x in after)} line(s) after "
                                     f"the heading '{_text(leaf.element)}'",
                                     after[0].element if len(after) == 1 else None))
        last, first = here[-1], there[0]
        if first.element is last.element and last.lines < LINES:
            found.append(Problem(number, f"page {number} ends with one line of '{_text(last.element)}'"))
        if first.element is last.element and first.lines < LINES:
            found.append(Problem(number + 1, f"page {number + 1} starts with one line of '{_text(first.element)}'"))
    return found


def keep_with_next(document: Any) -> int:
    """Ask for `break-after: avoid` on each line left alone under a heading; return how many were marked."""
    marked = 0
    for problem in problems(document):
        element = problem.fix
        if element is None or "break-after: avoid" in (element.get("style") or ""):
            continue
        element.set("style", f"{element.get('style') or ''}; break-after: avoid".lstrip("; "))
        marked += 1
    return marked


def _text(element: Any) -> str:
    words = " ".join("".join(element.itertext()).split())
    return words if len(words) <= 60 else words[:57] + "..."
