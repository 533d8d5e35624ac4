"""`handouts init`: a new clinic workspace that builds right away."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from handouts.errors import HandoutsError
from handouts.load.workspace import CONFIG_FILE, builtin_dir

CONFIG_TEMPLATE = """\
# handouts workspace config. Every field is explained in the README ("Branding").
# Paths are relative to this file. Run `handouts build --all` to make every handout.

clinic:
  name: Your Clinic Name               # header, footer and PDF author
  logo: logo.svg                       # a file in data/assets/ (SVG, PNG or JPEG); remove the line for none
  logo_alt: Your Clinic Name logo      # read aloud by screen readers
  phone: (555) 010-0100                # printed on every page
  address: 1 Main Street, Your Town    # printed on every page
  website: www.example.org
  # footer:                            # one extra line at the foot of each page, in each language
  #   en: Questions? Call us.            # (handouts check warns about a language without one)
  #   es: ¿Preguntas? Llámenos.
  colors:                              # quote colours: a bare # starts a comment
    primary: "#1d4e89"                 # headings, header rule, box borders
    accent: "#a61b1b"                  # the "get help now" box
  font: Noto Sans                      # a family declared in styles/fonts.css

defaults:
  paper: letter                        # letter or a4
"""

LOGO = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" width="120" height="120">
  <title>Clinic logo placeholder</title>
  <rect x="4" y="4" width="112" height="112" rx="18" fill="#1d4e89"/>
  <rect x="50" y="24" width="20" height="72" rx="4" fill="#ffffff"/>
  <rect x="24" y="50" width="72" height="20" rx="4" fill="#ffffff"/>
</svg>
"""

TEMPLATES_README = """\
Templates here replace the built-in ones with the same name (see "Overriding templates and
styles" in the README). To change one block and keep the rest, extend the built-in file:

    {% extends "!builtin/base.html" %}
    {% block footer %}{{ super() }}<p>Our extra footer line</p>{% endblock %}

Save that as templates/base.html here. Built-in names: base.html, kinds/overview.html,
kinds/faq.html, kinds/caution.html, partials/blocks.html. Every block, macro, variable, filter,
CSS class and page area is listed in docs/templates.md of the handouts source, with worked
examples (the address in the header, a heading colour, an extra box, a second logo).
"""

STYLES_README = """\
A custom.css here loads after the built-in styles, so its rules win. A file with the same name as
a built-in one (handout.css, fonts.css) replaces it. Fonts go in styles/fonts/.
"""


def scaffold(directory: Path) -> list[Path]:
    """Create a workspace in directory; refuse to touch one that already exists."""
    directory = Path(directory)
    if (directory / CONFIG_FILE).exists():
        raise HandoutsError(f"{directory / CONFIG_FILE} already exists; not changing an existing workspace")
    if directory.exists() and any(directory.iterdir()):
        raise HandoutsError(f"{directory} is not empty; choose a new folder")
    created: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)

    write(directory / CONFIG_FILE, CONFIG_TEMPLATE)
    write(directory / "data" / "assets" / "logo.svg", LOGO)
    write(directory / "templates" / "README.txt", TEMPLATES_README)
    write(directory / "styles" / "README.txt", STYLES_README)
    (directory / "output").mkdir(exist_ok=True)
    samples = builtin_dir("data") / "topics"
    figures: set[str] = set()
    for topic in sorted(p for p in samples.iterdir() if p.is_dir()):
        target = directory / "data" / "topics" / topic.name
        shutil.copytree(topic, target)
        created.append(target)
        figures.update(m for f in topic.glob("*.yaml") for m in _FIGURE_SRC.findall(f.read_text(encoding="utf-8")))
    for name in sorted(figures):  # the drawings the sample topics show
        source = builtin_dir("data") / "assets" / name
        if source.is_file():
            shutil.copyfile(source, directory / "data" / "assets" / name)
            created.append(directory / "data" / "assets" / name)
    return created


#: A figure block's file name in a language file (the sample topics write it on its own line).
_FIGURE_SRC = re.compile(r"^\s+src:\s*([\w.-]+)\s*$", re.MULTILINE)
