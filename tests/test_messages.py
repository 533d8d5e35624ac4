"""Every message says how to fix the mistake, in the writer's words: exact text, through the loader and the CLI.

Each case writes a small workspace with one mistake, loads it with the library (the lines of the
ContentError) and runs `handouts list` on it (what the user sees on standard error, with the
source line and caret under a YAML syntax error). Both must be exactly the expected lines.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from handouts.errors import ContentError, UsageError
from handouts.load.config import Config
from handouts.load.explain import EITHER, LISTS, MAPPINGS
from handouts.load.model import LanguageFile, TopicMeta
from handouts.load.workspace import Workspace

from .conftest import CONFIG, EN, ES, TOPIC

T, E, S = "data/topics/test/topic.yaml", "data/topics/test/en.yaml", "data/topics/test/es.yaml"
HY = "handouts.yaml"


def _en(old: str, new: str) -> dict[str, str]:
    assert old in EN
    return {E: EN.replace(old, new)}


def _topic(old: str, new: str) -> dict[str, str]:
    assert old in TOPIC
    return {T: TOPIC.replace(old, new)}


def _clinic(extra: str) -> dict[str, str]:
    return {HY: CONFIG + extra}


SECTION_TWO = "      - id: second\n        heading: Second\n        blocks:\n          - p: More.\n"
SECCION_DOS = "      - id: second\n        heading: Segunda\n        blocks:\n          - p: Más.\n"

#: (files laid over the small workspace, the lines `handouts list` prints on standard error)
CASES: dict[str, tuple[dict[str, str | None], list[str]]] = {
    # --- a list written as one value, or empty -------------------------------------------------------
    "codes-scalar": (_topic("codes: [M54.31]", "codes: M72.2"),
                     [f"error: {T}:3: codes: expected a list, like [M72.2]"]),
    "codes-empty": (_topic("codes: [M54.31]", "codes: []"),
                    [f"error: {T}:3: codes: list at least one code, like [M54.31]"]),
    "codes-nothing": (_topic("codes: [M54.31]", "codes:"),
                      [f"error: {T}:3: codes: empty; list at least one code, like [M54.31]"]),
    "items-scalar": (_en("items: [Numbness in both legs]", "items: Numbness"),
                     [f"error: {E}:8: handouts.overview.get_help_now.items: expected a list, like [Numbness]"]),
    "items-number": (_en("items: [Numbness in both legs]", "items: 3"),
                     [f"error: {E}:8: handouts.overview.get_help_now.items: expected a list, like "
                      "[Numbness in both legs]"]),
    "ul-scalar-with-comma": (_en("- ul: [One, Two]", "- ul: One, then two"),
                             [f"error: {E}:17: handouts.overview.sections[0].blocks[2].ul: expected a list, like "
                              '["One, then two"]']),
    "ol-scalar": (_en("- ul: [One, Two]", "- ol: Bend one knee"),
                  [f"error: {E}:17: handouts.overview.sections[0].blocks[2].ol: expected a list, like "
                   "[Bend one knee]"]),
    "lengths-scalar": (_en("lengths: [brief]", "lengths: brief"),
                       [f"error: {E}:14: handouts.overview.sections[0].blocks[0].lengths: expected a list, like "
                        "[brief]"]),
    "lengths-empty": (_en("lengths: [brief]", "lengths: []"),
                      [f"error: {E}:14: handouts.overview.sections[0].blocks[0].lengths: list at least one length, "
                       "like [standard, detailed]"]),
    "lengths-twice": (_en("lengths: [brief]", "lengths: [brief, brief]"),
                      [f"error: {E}:14: handouts.overview.sections[0].blocks[0].lengths: brief is listed twice"]),
    "length-misspelt": (_en("lengths: [brief]", "lengths: [breif]"),
                        [f"error: {E}:14: handouts.overview.sections[0].blocks[0].lengths[0]: expected brief, "
                         "standard or detailed; did you mean brief?"]),
    "blocks-fields": (_en("          - p: Only in brief.\n            lengths: [brief]\n"
                          "          - p: Longer text for standard and detailed.\n"
                          "            lengths: [standard, detailed]\n          - ul: [One, Two]\n",
                          "            p: Only in brief.\n"),
                      [f"error: {E}:12: handouts.overview.sections[0].blocks: expected a list of blocks on the lines "
                       'below, each starting with "- ", like "- p: Stay as active as you can."']),
    "sections-scalar": ({E: EN.split("    sections:")[0] + "    sections: What helps\n"},
                        [f"error: {E}:9: handouts.overview.sections: expected a list of sections on the lines below, "
                         'each starting with "- ", like "- id: what-helps"']),
    "sources-one-bad-entry": (_topic("    accessed: 2026-11-01", "    accessed: 2026-11-01\n    kinds: overview"),
                              [f"error: {T}:12: sources[0].kinds: expected a list, like [overview]"]),
    "too-many-items": (_en("- ul: [One, Two]", "- ul: [" + ", ".join(f"Item {i}" for i in range(101)) + "]"),
                       [f"error: {E}:17: handouts.overview.sections[0].blocks[2].ul: at most 100 items; this list "
                        "has 101"]),
    # --- colours ---------------------------------------------------------------------------------------
    "colour-comment": (_clinic("  colors:\n    primary: #0b5d4b\n"),
                       [f'error: {HY}:5: clinic.colors.primary: put colours in quotes, like "#0b5d4b" (YAML reads '
                        "an unquoted # as the start of a comment)"]),
    "colour-number": (_clinic("  colors:\n    accent: 123456\n"),
                      [f'error: {HY}:5: clinic.colors.accent: put colours in quotes, like "#0b5d4b" (YAML read '
                       "123456 as a number)"]),
    "colour-no-hash": (_clinic("  colors:\n    primary: 0b5d4b\n"),
                       [f"error: {HY}:5: clinic.colors.primary: '0b5d4b' is not a colour; write # and six hex "
                        'digits, like "#0b5d4b"']),
    "colour-name": (_clinic("  colors:\n    primary: navy\n"),
                    [f"error: {HY}:5: clinic.colors.primary: 'navy' is not a colour; write # and six hex digits, "
                     'like "#0b5d4b"']),
    "colours-not-fields": (_clinic("  colors: navy\n"),
                           [f"error: {HY}:4: clinic.colors: expected fields indented below it: primary, accent"]),
    # --- unknown fields, misspelt names and values -----------------------------------------------------
    "field-misspelt": (_en("    summary:", "    sumary:"),
                       [f"error: {E}:5: handouts.overview.sumary: unknown field; did you mean summary?"]),
    "field-unknown": (_en("        heading: First section\n", "        heading: First section\n        colour: red\n"),
                      [f"error: {E}:12: handouts.overview.sections[0].colour: unknown field; the fields here are "
                       "lengths, id, heading, blocks"]),
    "config-field-misspelt": (_clinic("  adress: 1 Main Street\n"),
                              [f"error: {HY}:4: clinic.adress: unknown field; did you mean address?"]),
    "paper-misspelt": ({HY: CONFIG + "defaults:\n  paper: leter\n"},
                       [f"error: {HY}:5: defaults.paper: expected letter or a4; did you mean letter?"]),
    "review-status": (_topic("  status: draft", "  status: Reviewed"),
                      [f"error: {T}:6: review.status: expected draft or reviewed; did you mean reviewed?"]),
    "boolean": ({HY: CONFIG + "defaults:\n  reviewed_only: yes\n"},
                [f"error: {HY}:5: defaults.reviewed_only: expected true or false"]),
    "source-kind-misspelt": (_topic("    accessed: 2026-11-01", "    accessed: 2026-11-01\n    kinds: [overveiw]"),
                             [f"error: {T}:12: sources[0].kinds: no handout of kind 'overveiw' in en.yaml; did you "
                              "mean overview?"]),
    "links-scalar": ({T: TOPIC + "links: https://www.nhs.uk/conditions/sciatica/\n"},
                     [f"error: {T}:12: links: expected one web address per language, like "
                      "{en: https://www.nhs.uk/conditions/sciatica/}"]),
    "handouts-empty": ({E: "language: en\nhandouts: {}\n"},
                       [f"error: {E}:2: handouts: add at least one kind of handout"]),
    "printers-scalar": ({HY: CONFIG + "printers: front-desk\n"},
                        [f"error: {HY}:4: printers: expected a list of printers on the lines below, each starting "
                         'with "- ", like "- queue: front-desk"']),
    "footer-number": (_clinic("  footer: 3\n"),
                      [f"error: {HY}:4: clinic.footer: expected one line of text, or one line per language, like "
                       "{en: Call us., es: Llámenos.}"]),
    "footer-language": (_clinic("  footer:\n    jp: Call us.\n"),
                        [f"error: {HY}:5: clinic.footer.jp: unknown language 'jp' (JP is the country code of Japan); "
                         "did you mean ja?"]),
    "language-case": (_en("language: en", "language: EN"),
                      [f"error: {E}:1: language: 'EN' is not a BCP 47 language tag; did you mean en?"]),
    "language-country": ({"data/topics/test/ko.yaml": ES.replace("language: es", "language: kr")},
                         ["error: data/topics/test/ko.yaml:1: language: unknown language 'kr' (KR is the country code "
                          "of South Korea); did you mean ko?"]),
    "language-name": ({"data/topics/test/es.yaml": ES.replace("language: es", "language: sp")},
                      [f"error: {S}:1: language: unknown language 'sp'; did you mean es?"]),
    "title-number": (_en("title: Test handout", "title: 42"),
                     [f'error: {E}:4: handouts.overview.title: expected text; YAML read this as a number: put it in '
                      'quotes, like "42"']),
    "title-empty": (_en("title: Test handout", "title:"),
                    [f'error: {E}:4: handouts.overview.title: empty; write the text after "title:"']),
    "font-misspelt": (_clinic("  font: Noto Sands\n"),
                      [f"error: {HY}:4: clinic.font: 'Noto Sands' is not a font family in styles/fonts.css; did you "
                       "mean Noto Sans?"]),
    "font-malformed": (_clinic("  font: Noto_Sans\n"),
                       [f"error: {HY}:4: clinic.font: 'Noto_Sans' is not a font family in styles/fonts.css; did you "
                        "mean Noto Sans?"]),
    # --- names that become ids and paths ---------------------------------------------------------------
    "topic-folder": ({"data/topics/Heel-Pain/topic.yaml": TOPIC, "data/topics/Heel-Pain/en.yaml": EN},
                     ["error: data/topics/Heel-Pain: topic folder names use lower-case letters, digits and hyphens, "
                      "like heel-pain"]),
    "section-id": (_en("- id: first", "- id: What Helps"),
                   [f"error: {E}:10: handouts.overview.sections[0].id: ids use lower-case letters, digits and "
                    "hyphens, like what-helps"]),
    "kind-key": (_en("  overview:", "  Overview:"),
                 [f"error: {E}:3: handouts.Overview: kinds of handout use lower-case letters, digits and hyphens, "
                  "like overview"]),
    "source-kind-name": (_topic("    accessed: 2026-11-01", "    accessed: 2026-11-01\n    kinds: [Caution Sheet]"),
                         [f"error: {T}:12: sources[0].kinds[0]: kinds of handout use lower-case letters, digits and "
                          "hyphens, like caution-sheet"]),
    # --- translations: the section's own line, and where the source has it ------------------------------
    "translation-missing-block": ({S: ES.replace("          - ul: [Uno, Dos]\n", "")},
                                  [f"error: {S}:13: handouts.overview.sections[id=first].block 3: missing; "
                                   "en.yaml:17 has it"]),
    "translation-missing-section": ({E: EN + SECTION_TWO, S: ES},
                                    [f"error: {S}:12: handouts.overview.sections[id=second]: missing; en.yaml:18 "
                                     "has it"]),
    "translation-renamed-id": ({E: EN + SECTION_TWO, S: ES + SECCION_DOS.replace("id: second", "id: segunda")},
                               [f"error: {S}:21: handouts.overview.sections[id=segunda]: 'segunda' is not an id in "
                                "en.yaml, which has 'second' here (en.yaml:18); ids are the same in every language"]),
    "translation-extra-section": ({S: ES + SECCION_DOS},
                                  [f"error: {S}:21: handouts.overview.sections[id=second]: not in en.yaml"]),
    # --- YAML syntax, in plain words, with the line and a caret --------------------------------------------
    "yaml-tab": (_en("    title: Test handout", "\ttitle: Test handout"),
                 [f"error: {E}:4: invalid YAML: a tab is used for indentation; indent with spaces only",
                  "  4 | →title: Test handout",
                  "    | ^"]),
    "yaml-indented-more": (_en("    summary:", "     summary:"),
                           [f"error: {E}:5: invalid YAML: this line is indented more than the field above it; fields "
                            "of the same block start in the same column",
                            "  5 |      summary: A short summary.",
                            "    |      ^"]),
    "yaml-indented-less": (_en("        heading: First section", "       heading: First section"),
                           [f"error: {E}:11: invalid YAML: this line does not line up with the fields above it; "
                            "fields of the same block start in the same column",
                            "  11 |        heading: First section",
                            "     |        ^"]),
    "yaml-missing-dash": (_en("          - p: Longer text", "          p: Longer text"),
                          [f'error: {E}:15: invalid YAML: this line is inside a list but does not start with "- "; '
                           "add the dash, or line it up with the field the list belongs to",
                           "  15 |           p: Longer text for standard and detailed.",
                           "     |           ^"]),
    "yaml-item-without-dash": ({T: TOPIC.replace("codes: [M54.31]", "codes:\n  - M54.31\n  M54.30")},
                               [f'error: {T}:5: invalid YAML: this line is neither a field ("name: M54.30") nor a '
                                'list item ("- M54.30"); add what it lacks, or indent it to continue the text above',
                                "  5 |   M54.30",
                                "    |   ^"]),
    "yaml-unclosed-quote": (_en('intro: "Call 911 if you have:"', 'intro: "Call 911 if you have:'),
                            [f'error: {E}:7: invalid YAML: the quote " that starts here is never closed; end the value '
                             'with "',
                             '  7 |       intro: "Call 911 if you have:',
                             "    |              ^"]),
    "yaml-colon-in-value": (_en("summary: A short summary.", "summary: Note: rest helps."),
                            [f'error: {E}:5: invalid YAML: a ": " inside a value; put the value in quotes, like '
                             'summary: "Note: rest helps."',
                             "  5 |     summary: Note: rest helps.",
                             "    |                  ^"]),
    "yaml-text-after-quote": (_en('intro: "Call 911 if you have:"', 'intro: "Call 911" if you have:'),
                              [f'error: {E}:7: invalid YAML: text after the closing "; to write " inside "...", '
                               "write \\\", or quote the value with '...'",
                               '  7 |       intro: "Call 911" if you have:',
                               "    |                         ^"]),
    "yaml-apostrophe": (_en("- p: Only in brief.", "- p: 'It's only in brief.'"),
                        [f"error: {E}:13: invalid YAML: text after the closing '; to write ' inside '...', write it "
                         "twice (it''s), or quote the value with \"...\"",
                         "  13 |           - p: 'It's only in brief.'",
                         "     |                    ^"]),
    "yaml-unclosed-bracket": (_en("- ul: [One, Two]", "- ul: [One, Two"),
                              [f"error: {E}:17: invalid YAML: the [ that starts here is not closed with ]; an item with "
                               "a comma or a colon needs quotes",
                               "  17 |           - ul: [One, Two",
                               "     |                 ^"]),
    "yaml-reserved-start": (_en("- p: Only in brief.", "- p: @clinic on social media."),
                            [f'error: {E}:13: invalid YAML: a value cannot start with @; put the value in quotes, like '
                             '"@clinic on social media."',
                             "  13 |           - p: @clinic on social media.",
                             "     |                ^"]),
    "yaml-escape": (_en('intro: "Call 911 if you have:"', 'intro: "Call 911 if you have:\\d"'),
                    [f"error: {E}:7: invalid YAML: \\d is not a known escape inside \"...\"; write \\\\ for a "
                     "backslash, or use '...' quotes",
                     '  7 |       intro: "Call 911 if you have:\\d"',
                     "    |                                    ^"]),
    "yaml-control-character": (_en("Only in brief.", "Only in\x07 brief."),
                               [f"error: {E}:13: invalid YAML: a control character (U+0007), which YAML files may not "
                                "contain; remove it",
                                "  13 |           - p: Only in\ufffd brief.",
                                "     |                       ^"]),
    "yaml-second-document": (_en("language: en\n", "language: en\n---\n"),
                             [f'error: {E}:2: invalid YAML: a second document starts here ("---"); a handouts file '
                              "holds one",
                              "  2 | ---",
                              "    | ^"]),
    "date-impossible": (_topic("updated_on: 2026-11-01", "updated_on: 2026-02-30"),
                        [f"error: {T}:4: updated_on: '2026-02-30' is not a date (day is out of range for month); "
                         "write dates as YYYY-MM-DD, like 2026-11-25"]),
    "date-words": (_topic("updated_on: 2026-11-01", "updated_on: November 2026"),
                   [f"error: {T}:4: updated_on: expected a date, like 2026-11-25"]),
    "yaml-star": (_en("- p: Only in brief.", "- p: *Only* in brief."),
                  [f"error: {E}:13: invalid YAML: a value starting with * is read as a reference to another value; "
                   "put the value in quotes",
                   "  13 |           - p: *Only* in brief.",
                   "     |                ^"]),
}


@pytest.mark.parametrize("case", CASES)
def test_message_through_the_cli(case, run, write_workspace):
    files, expected = CASES[case]
    ws = write_workspace(files)
    result = run("-w", ws, "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == expected


@pytest.mark.parametrize("case", CASES)
def test_message_through_the_loader(case, write_workspace):
    files, expected = CASES[case]
    workspace = Workspace(write_workspace(files))
    with pytest.raises(ContentError) as info:
        workspace.config  # noqa: B018 - loading is the test
        workspace.catalog  # noqa: B018
    assert info.value.lines() == [line.removeprefix("error: ") for line in expected if line.startswith("error: ")]


# --- names and values on the command line --------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["build", "tset"], "error: unknown topic 'tset'; available: test; did you mean test?"),
    (["build", "test", "--kind", "overveiw"], "error: unknown kind 'overveiw'; available: overview; did you mean overview?"),
    (["build", "test", "--length", "breif"],
     "error: unknown length 'breif'; available: brief, standard, detailed; did you mean brief?"),
    (["build", "test", "--paper", "A4"], "error: unknown paper 'A4'; available: letter, a4; did you mean a4?"),
    (["build", "test", "--lang", "EN"], "error: unknown language 'EN'; available: en, es; did you mean en?"),
    (["build", "test", "--lang", "sp"], "error: unknown language 'sp'; available: en, es; did you mean es?"),
    (["build", "test", "--lang", "span"], "error: unknown language 'span'; available: en, es; did you mean es?"),
    (["build", "test", "--lang", "co"], "error: unknown language 'co'; available: en, es; did you mean es?"),
    (["build", "test", "--lang", "jp"], "error: unknown language 'jp'; available: en, es"),
    (["packet", "tset:overview", "-o", "x.pdf"], "error: unknown topic 'tset'; available: test; did you mean test?"),
    (["build", "test", "--kind", "handout"], "error: unknown kind 'handout'; available: overview"),
])
def test_unknown_names_on_the_command_line_get_a_did_you_mean(run, write_workspace, tmp_path, monkeypatch, args,
                                                               message):
    monkeypatch.chdir(tmp_path)
    result = run("-w", write_workspace({S: ES}), *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"


def test_a_brand_name_follows_the_rule_of_names(write_workspace, tmp_path):
    from handouts import commands

    with pytest.raises(UsageError) as info:
        commands.build(write_workspace(), topics=["test"], kinds=["overview"], lengths=["brief"], langs=["en"],
                       output=tmp_path / "out", brand="../Riverbend Health")
    assert str(info.value) == ("--brand ../Riverbend Health: brand names use lower-case letters, digits and hyphens, "
                               "like riverbend-health, at most 63 characters")


# --- the schema: every list and mapping field has its example ------------------------------------------

def _fields(model: type[BaseModel], seen: set[type] | None = None) -> list[tuple[str, Any]]:
    """Return (name, annotation) of every field of model and of the models below it."""
    seen = seen if seen is not None else set()
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, info in model.model_fields.items():
        found.append((name, info.annotation))
        for inner in _types(info.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found.extend(_fields(inner, seen))
    return found


def _types(tp: Any) -> list[Any]:
    out = [tp]
    for arg in get_args(tp):
        out.extend(_types(arg))
    return out


def _kind(tp: Any) -> str | None:
    top = get_origin(tp)
    if top in (Union, types.UnionType):
        forms = [a for a in get_args(tp) if a is not type(None)]
        if len(forms) > 1:
            return "either"
        tp, top = forms[0], get_origin(forms[0])
    if top in (tuple, list):
        return "list"
    if top is dict:
        return "mapping"
    return None


def test_every_list_and_mapping_field_has_an_example():
    fields = [f for model in (TopicMeta, LanguageFile, Config) for f in _fields(model)]
    lists = sorted({name for name, tp in fields if _kind(tp) == "list"})
    mappings = sorted({name for name, tp in fields if _kind(tp) == "mapping"})
    either = sorted({name for name, tp in fields if _kind(tp) == "either"})
    assert lists and mappings and either
    assert [name for name in lists if name not in LISTS] == []
    assert [name for name in mappings if name not in MAPPINGS] == []
    assert [name for name in either if name not in EITHER] == []


def test_names_and_colours_are_matched_whole():
    """`$` in a Python pattern matches before a last newline: a name or colour ending in one is refused."""
    from handouts.load.config import Colors
    from handouts.names import is_slug

    assert is_slug("heel-pain") and not is_slug("heel-pain\n")
    with pytest.raises(ValueError):
        Colors(primary="#0b5d4b\n")


def test_a_syntax_message_quotes_a_short_piece_of_the_line_and_no_bidi_control(tmp_path):
    """A 300,000-character line with U+202E (right-to-left override) gives one short, plain line."""
    from handouts.load import yamlio

    path = tmp_path / "bad.yaml"
    path.write_text("title: ok\nextra: `" + "A" * 300_000 + " \u202e evil\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        yamlio.load(path, tmp_path)
    [line] = caught.value.lines()
    assert len(line) < 300 and "\u202e" not in line
    assert line.startswith("bad.yaml:2: ")
    [(_, excerpt)] = caught.value.with_excerpts()
    assert excerpt and all("\u202e" not in shown and len(shown) < 200 for shown in excerpt), excerpt
