"""Bad content gets one clear line per problem: file:line: field.path: what is wrong."""

from __future__ import annotations

import pytest

from handouts.errors import ContentError
from handouts.load.catalog import load_topic
from handouts.load.workspace import Workspace

from .conftest import EN, ES


def problems(root) -> list[str]:
    with pytest.raises(ContentError) as info:
        Workspace(root).catalog  # noqa: B018 - loading is the test
    return info.value.lines()


def test_invalid_yaml_names_file_and_line(write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": "language: en\nhandouts:\n  overview: [unclosed\n"})
    assert problems(root) == ["data/topics/test/en.yaml:3: invalid YAML: the [ that starts here is not closed with ]; "
                              "an item with a comma or a colon needs quotes"]


def test_schema_errors_are_all_listed_with_lines(write_workspace):
    bad = EN.replace("    title: Test handout\n", "").replace("heading: First section", "heading: ''")
    bad = bad.replace("      - id: first", "      - id: First Section\n        colour: red")
    root = write_workspace({"data/topics/test/en.yaml": bad})
    assert problems(root) == [
        "data/topics/test/en.yaml:3: handouts.overview.title: required field is missing",
        "data/topics/test/en.yaml:9: handouts.overview.sections[0].id: "
        "ids use lower-case letters, digits and hyphens, like first-section",
        "data/topics/test/en.yaml:10: handouts.overview.sections[0].colour: unknown field; "
        "the fields here are lengths, id, heading, blocks",
        'data/topics/test/en.yaml:11: handouts.overview.sections[0].heading: empty; write the text after "heading:"',
    ]


def test_duplicate_key_is_an_error(write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("    summary:", "    title: Again\n    summary:")})
    assert problems(root) == ["data/topics/test/en.yaml:5: handouts.overview.title: duplicate key"]


def test_block_needs_exactly_one_kind(write_workspace):
    root = write_workspace({"data/topics/test/en.yaml": EN.replace("- ul: [One, Two]", "- ul: [One]\n            p: Both")})
    assert problems(root) == [
        "data/topics/test/en.yaml:17: handouts.overview.sections[0].blocks[2]: "
        "a block needs exactly one of p (paragraph), ul (bullets), ol (steps) or figure"
    ]


def test_section_empty_in_a_length_is_an_error(write_workspace):
    text = EN.replace("          - ul: [One, Two]\n", "")
    text = text.replace("          - p: Longer text for standard and detailed.\n            lengths: [standard, detailed]\n", "")
    root = write_workspace({"data/topics/test/en.yaml": text})
    assert problems(root) == [
        "data/topics/test/en.yaml:10: handouts.overview.sections[0]: "
        "shown in standard, detailed but none of its blocks is; it would print empty"
    ]


def test_yaml_booleans_never_eat_a_language_code(write_workspace):
    # In YAML 1.1 `no` (Norwegian) is false; handouts reads YAML 1.2 booleans only.
    text = EN.replace("language: en", "language: no")
    root = write_workspace({"data/topics/test/no.yaml": text, "data/topics/test/topic.yaml": None})
    with pytest.raises(ContentError) as info:
        load_topic(root / "data" / "topics" / "test", root)
    assert "data/topics/test/topic.yaml: file not found" in info.value.lines()
    assert not any("valid string" in line for line in info.value.lines())


def test_unknown_language_code(write_workspace):
    root = write_workspace({"data/topics/test/sp.yaml": ES.replace("language: es", "language: sp")})
    assert problems(root) == ["data/topics/test/sp.yaml:1: language: unknown language 'sp'; did you mean es?"]


def test_language_must_match_file_name(write_workspace):
    root = write_workspace({"data/topics/test/fr.yaml": ES})
    assert problems(root) == ["data/topics/test/fr.yaml:1: language: 'es' does not match the file name fr.yaml"]


def test_missing_block_in_translation_is_an_error(write_workspace):
    es = ES.replace("          - ul: [Uno, Dos]\n", "")
    root = write_workspace({"data/topics/test/es.yaml": es})
    assert problems(root) == [
        "data/topics/test/es.yaml:13: handouts.overview.sections[id=first].block 3: missing; en.yaml:17 has it"
    ]


def test_translation_with_other_lengths_or_sizes_is_an_error(write_workspace):
    es = ES.replace("- ul: [Uno, Dos]", "- ul: [Uno]").replace(
        "- p: Solo en la breve.\n            lengths: [brief]", "- p: Solo en la breve.\n            lengths: [brief, standard]"
    )
    root = write_workspace({"data/topics/test/es.yaml": es})
    assert problems(root) == [
        "data/topics/test/es.yaml:16: handouts.overview.sections[id=first].block 1: "
        "is p in brief/standard; en.yaml has p in brief",
        "data/topics/test/es.yaml:20: handouts.overview.sections[id=first].block 3: "
        "is ul of 1 items in brief/standard/detailed; en.yaml has ul of 2 items in brief/standard/detailed",
    ]


def test_extra_section_in_translation_is_an_error(write_workspace):
    extra = "      - id: extra\n        heading: Extra\n        blocks:\n          - p: Más.\n"
    root = write_workspace({"data/topics/test/es.yaml": ES + extra})
    assert problems(root) == [
        "data/topics/test/es.yaml:21: handouts.overview.sections[id=extra]: not in en.yaml",
    ]


def test_translation_needs_its_status(write_workspace):
    es = ES.replace("translation:\n  status: draft\n  translated_from: en\n", "")
    root = write_workspace({"data/topics/test/es.yaml": es})
    assert problems(root) == [
        "data/topics/test/es.yaml:1: translation: a translation needs a translation block "
        "(status: draft, translated_from: en)"
    ]


def test_review_never_half_filled(write_workspace):
    from .conftest import TOPIC

    topic = TOPIC.replace("  status: draft", "  status: reviewed\n  reviewed_by: Dr Example")
    root = write_workspace({"data/topics/test/topic.yaml": topic})
    assert problems(root) == [
        "data/topics/test/topic.yaml:5: review: status reviewed needs reviewed_by and reviewed_on"
    ]


def test_config_errors_name_file_line_and_field(write_workspace):
    root = write_workspace({"handouts.yaml": "clinic:\n  name: X\n  colors:\n    primary: blue\n  logo: nope.svg\n"})
    with pytest.raises(ContentError) as info:
        Workspace(root).config  # noqa: B018
    assert info.value.lines() == [
        "handouts.yaml:4: clinic.colors.primary: 'blue' is not a colour; write # and six hex digits, like \"#0b5d4b\"",
    ]


CALL_TODAY = "    call_today:\n      items: [You have a fever with back pain]\n    call_care_team:\n      items: [It is not better]\n"


def test_call_today_box_is_shown_at_every_length(write_workspace):
    en = EN + CALL_TODAY.replace("      items: [You have", "      lengths: [standard]\n      items: [You have")
    root = write_workspace({"data/topics/test/en.yaml": en})
    assert problems(root) == ["data/topics/test/en.yaml:19: handouts.overview.call_today.lengths: unknown field; "
                              "the fields here are intro, items"]


def test_translation_without_the_call_today_box_is_an_error(write_workspace):
    es = ES + "    call_care_team:\n      items: [No mejora]\n"
    root = write_workspace({"data/topics/test/en.yaml": EN + CALL_TODAY, "data/topics/test/es.yaml": es})
    assert problems(root) == [
        "data/topics/test/es.yaml:6: handouts.overview.call_today: is absent; en.yaml has 1 items"
    ]
