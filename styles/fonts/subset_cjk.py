"""Make the CJK font files shipped in this folder (run by hand; its output is committed).

The Noto Sans CJK collections in Debian's fonts-noto-cjk are 20 MB each and hold every
region's glyphs. handouts ships one face per script, cut down to the characters patient text
uses: GB 2312 (Simplified Chinese), Big5 level 1, its 5,401 common characters (Traditional
Chinese), every modern Hangul syllable
(Korean), with CJK punctuation, full-width forms and Latin, plus every character the shipped
text of that script's language uses (data/topics/*/<lang>.yaml and its handouts.po, so drug
names such as 萘普生 or 羥考酮 outside those sets print) and a few kept on purpose (EXTRA).
After editing the text, run it again. `handouts check` reports any character of a handout
that these files lack.

    apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb /tmp/cjk
    python styles/fonts/subset_cjk.py /tmp/cjk/usr/share/fonts/opentype/noto [SC TC KR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FACES = {"SC": 2, "TC": 3, "KR": 1}  # index of each face in NotoSansCJK-*.ttc
LANGS = {"SC": "zh-Hans", "TC": "zh-Hant", "KR": "ko"}  # the language whose text each face prints
# Medical characters outside GB 2312 / Big5 level 1, kept even if no text uses them yet:
# nausea 噁心, seizure 癲癇 / 抽搐, naproxen 萘普生, oxycodone 羥考酮, acetaminophen 乙醯胺酚.
EXTRA = {"TC": "噁癇搐萘羥醯唑胺酚酮"}


def text_characters(script: str) -> set[int]:
    """Return the CJK characters the shipped text of the script's language uses."""
    lang = LANGS[script]
    files = sorted((ROOT / "data").glob(f"topics/*/{lang}.yaml"))
    files += sorted((ROOT / "handouts" / "locale" / lang.replace("-", "_")).glob("LC_MESSAGES/*.po"))
    chars = {ord(c) for c in EXTRA.get(script, "")}
    for path in files:
        chars.update(ord(c) for c in path.read_text(encoding="utf-8") if ord(c) >= 0x2E80)
    return chars


def _decode_range(codec: str, first: range, second: range) -> set[int]:
    chars: set[int] = set()
    for a in first:
        for b in second:
            try:
                chars.update(ord(c) for c in bytes([a, b]).decode(codec))
            except UnicodeDecodeError:
                pass
    return chars


def characters(script: str) -> set[int]:
    """Return the code points to keep for one script."""
    common = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180)) | set(range(0x2000, 0x2070))
    common |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | set(range(0x2460, 0x24FF))
    common |= text_characters(script)
    if script == "SC":
        return common | _decode_range("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF))
    if script == "TC":
        symbols = _decode_range("big5", range(0xA1, 0xA4), range(0x40, 0xFF))
        return common | symbols | _decode_range("big5", range(0xA4, 0xC7), range(0x40, 0xFF))
    hangul = set(range(0xAC00, 0xD7A4)) | set(range(0x3130, 0x3190))
    return common | hangul | _decode_range("euc-kr", range(0xA1, 0xAD), range(0xA1, 0xFF))


def main(source: Path, scripts: list[str]) -> None:
    for weight in ("Regular", "Bold"):
        collection = TTCollection(str(source / f"NotoSansCJK-{weight}.ttc"))
        for script, index in FACES.items():
            if scripts and script not in scripts:
                continue
            font = collection.fonts[index]
            options = subset.Options()
            options.layout_features = ["*"]
            options.name_IDs = ["*"]
            options.notdef_outline = True
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=characters(script))
            subsetter.subset(font)
            out = HERE / f"NotoSansCJK{script.lower()}-{weight}-subset.otf"
            font.save(str(out))
            print(f"{out.name}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])  # optional: only these scripts (SC, TC, KR)
