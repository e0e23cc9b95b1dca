"""Vietnamese text in the legacy encodings communes still use, converted to Unicode (NFC).

Before Unicode, Vietnamese was typed in 8-bit font encodings: TCVN3 (ABC, fonts ``.VnTime``)
gives every toned lower-case letter one byte; VNI (fonts ``VNI-Times``) writes a base letter
followed by a byte for its marks; Windows-1258 writes the tone as a combining byte after the
letter. A spreadsheet typed in such a font stores those bytes as Latin-1 characters
(``NguyÔn V¨n T©m``, ``Nguyeãn Vaên Taâm``), and a JSON file saved in a legacy code page is not
UTF-8. Decoding them is better than rejecting the file: ``decode_texts`` recognises the
encoding from all the text of a file that may be legacy (a Unicode template's headers may stand
beside data typed in a legacy font) and converts that text; the submitter is told with a
warning.

Recognition: genuine Unicode Vietnamese text carries letters beyond Latin-1 (ă đ ơ ư ạ ả ễ …);
legacy text never does, and read as Latin-1 it carries characters no Vietnamese word has
(``¸ µ ¶ ¬ ø ï ñ ö``). The encoding whose conversion leaves the fewest such characters wins.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

TONES = {"\u0301": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0323": 4}  # sắc huyền hỏi ngã nặng
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"

# TCVN3 (ABC): one byte per lower-case letter; the upper-case toned letters live in separate
# "H" fonts at the same codes, so they decode to lower case.
_TCVN3_LETTERS = {
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
}
# Per base vowel: the codes of its five toned forms in the order of TONES.
_TCVN3_TONED = {
    "a": (0xB8, 0xB5, 0xB6, 0xB7, 0xB9), "ă": (0xBE, 0xBB, 0xBC, 0xBD, 0xC6),
    "â": (0xCA, 0xC7, 0xC8, 0xC9, 0xCB), "e": (0xD0, 0xCC, 0xCE, 0xCF, 0xD1),
    "ê": (0xD5, 0xD2, 0xD3, 0xD4, 0xD6), "i": (0xDD, 0xD7, 0xD8, 0xDC, 0xDE),
    "o": (0xE3, 0xDF, 0xE1, 0xE2, 0xE4), "ô": (0xE8, 0xE5, 0xE6, 0xE7, 0xE9),
    "ơ": (0xED, 0xEA, 0xEB, 0xEC, 0xEE), "u": (0xF3, 0xEF, 0xF1, 0xF2, 0xF4),
    "ư": (0xF8, 0xF5, 0xF6, 0xF7, 0xF9), "y": (0xFD, 0xFA, 0xFB, 0xFC, 0xFE),
}

# VNI: the base letter, then one character for the marks (lower-case marks after a lower-case
# letter, upper-case after an upper-case one). ơ ư đ and the toned i are single characters.
_VNI_TONE = ("ù", "ø", "û", "õ", "ï")
_VNI_CIRCUMFLEX = ("á", "à", "å", "ã", "ä")  # â ê ô with a tone; alone: "â"
_VNI_BREVE = ("é", "è", "ú", "ü", "ë")  # ă with a tone; alone: "ê"
_VNI_I = ("í", "ì", "æ", "ó", "ò")
_VNI_SINGLE = {"ơ": "ô", "ư": "ö", "đ": "ñ"}


def _parts(letter: str) -> tuple[str, str, int | None]:
    """A Vietnamese letter as (base ASCII letter or đ, vowel modifier, tone index)."""
    if letter.lower() == "đ":
        return letter, "", None
    decomposed = unicodedata.normalize("NFD", letter)
    base, marks = decomposed[0], decomposed[1:]
    modifier = next((m for m in marks if m in (CIRCUMFLEX, BREVE, HORN)), "")
    tone = next((TONES[m] for m in marks if m in TONES), None)
    return base, modifier, tone


@cache
def vietnamese_letters() -> frozenset[str]:
    """Every letter with Vietnamese diacritics (NFC), both cases: 134 vowels and đ Đ."""
    letters = {"đ", "Đ"}
    for base in "aeiouy":
        modifiers = {"a": ("", CIRCUMFLEX, BREVE), "e": ("", CIRCUMFLEX), "o": ("", CIRCUMFLEX, HORN),
                     "u": ("", HORN)}.get(base, ("",))
        for modifier in modifiers:
            for tone in ("", *TONES):
                for case in (base, base.upper()):
                    letter = unicodedata.normalize("NFC", case + modifier + tone)
                    if len(letter) == 1 and letter not in "aeiouyAEIOUY":
                        letters.add(letter)
    return frozenset(letters)


@cache
def _tcvn3_table() -> dict[str, str]:
    """Unicode letter → its TCVN3 character (the byte read as Latin-1)."""
    table = {k: chr(v) for k, v in _TCVN3_LETTERS.items()}
    for base, codes in _TCVN3_TONED.items():
        for tone, code in zip(TONES, codes, strict=True):
            lower = unicodedata.normalize("NFC", base + tone)
            table[lower] = chr(code)
            table.setdefault(lower.upper(), chr(code))
    return table


@cache
def _vni_table() -> dict[str, str]:
    """Unicode letter → its VNI sequence (read as Latin-1)."""
    table: dict[str, str] = {}
    for letter in vietnamese_letters():
        upper = letter.isupper()
        base, modifier, tone = _parts(letter.lower())
        fix = (lambda s: s.upper()) if upper else (lambda s: s)
        if letter.lower() in _VNI_SINGLE:
            table[letter] = fix(_VNI_SINGLE[letter.lower()])
        elif base == "i":
            table[letter] = fix(_VNI_I[tone])
        elif modifier == HORN:
            single = _VNI_SINGLE[unicodedata.normalize("NFC", base + HORN)]
            table[letter] = fix(single + ("" if tone is None else _VNI_TONE[tone]))
        elif modifier == CIRCUMFLEX:
            table[letter] = fix(base + ("â" if tone is None else _VNI_CIRCUMFLEX[tone]))
        elif modifier == BREVE:
            table[letter] = fix(base + ("ê" if tone is None else _VNI_BREVE[tone]))
        else:
            table[letter] = fix(base + _VNI_TONE[tone])
    return table


def _translator(table: dict[str, str]):
    reverse: dict[str, str] = {}
    for letter, code in sorted(table.items(), key=lambda kv: kv[0].isupper()):
        reverse.setdefault(code, letter)  # lower case first: TCVN3 codes serve both cases
    pattern = re.compile("|".join(re.escape(c) for c in sorted(reverse, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: reverse[m.group(0)], text)


@cache
def _decoders():
    return {"TCVN3": _translator(_tcvn3_table()), "VNI": _translator(_vni_table())}


def encode(text: str, encoding: str) -> str:
    """``text`` as a legacy font would store it (Latin-1 characters); for building test files."""
    table = _tcvn3_table() if encoding == "TCVN3" else _vni_table()
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def encode_cp1258(text: str) -> bytes:
    """``text`` in Windows-1258: the letters it has precomposed, the others as letter + tone."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            base = "".join(m for m in decomposed if m not in TONES)
            tone = "".join(m for m in decomposed if m in TONES)
            out += unicodedata.normalize("NFC", base).encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


# The vowel groups of Vietnamese syllables, tones removed (a reading that yields others is wrong).
VOWEL_GROUPS = frozenset((
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây",
    "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui",
    "uô", "uơ", "uy", "ưa", "ưi", "ưu", "ươ", "yê", "iêu", "oai", "oao", "oay", "oeo", "uây",
    "uôi", "uya", "uyê", "uyu", "ươi", "ươu", "yêu",
))
_VOWEL_RUN = re.compile("[aeiouyăâêôơư]+")
_GLIDE = re.compile("(?<=g)i(?=[aeiouyăâêôơư])|(?<=q)u")  # gi-, qu- are initials, not vowels


def _strip_tones(text: str) -> str:
    return unicodedata.normalize("NFC", "".join(
        ch for ch in unicodedata.normalize("NFD", text.lower()) if ch not in TONES))


def _garbage(text: str) -> int:
    """How far ``text`` is from Vietnamese: characters no Vietnamese text has (non-ASCII, not a
    Vietnamese letter, not punctuation a clerk types) plus vowel groups with a diacritic that no
    syllable has (``aê``, ``uyeo``)."""
    letters = vietnamese_letters()
    odd = sum(1 for ch in text if ord(ch) > 0x7F and ch not in letters and ch not in "–—…“”‘’°№•")
    plain = _GLIDE.sub("", _strip_tones(text))
    groups = sum(1 for run in _VOWEL_RUN.findall(plain) if run not in VOWEL_GROUPS)
    # NguyÔn: an upper-case letter inside a lower-case word is how TCVN3 reads as Latin-1
    case_breaks = sum(1 for before, ch in zip(text, text[1:], strict=False)
                      if ord(ch) > 0x7F and ch.isupper() and before.islower())
    return odd + groups + case_breaks


_BEYOND_LATIN1 = re.compile("[\u0100-\u1ef9]")
_LATIN1_HIGH = re.compile("[\u00a0-\u00ff]")


def detect(text: str) -> str | None:
    """The legacy encoding ``text`` (all the text of one file, NFC) is in, or None."""
    if not _LATIN1_HIGH.search(text) or any(ch in vietnamese_letters() for ch in
                                            set(_BEYOND_LATIN1.findall(text))):
        return None
    as_is = _garbage(text)
    best, best_score = None, as_is
    for name, decode in _decoders().items():
        converted = decode(text)
        score = _garbage(converted)
        if score < best_score and _BEYOND_LATIN1.search(converted):
            best, best_score = name, score
    return best


def decode_text(text: str, encoding: str) -> str:
    return unicodedata.normalize("NFC", _decoders()[encoding](text))


def decode_cell(text: str, encoding: str) -> str:
    """One cell of a file in ``encoding``: converted unless that makes it less Vietnamese.
    (A Unicode ``Ghi chú`` beside TCVN3 data reads as Vietnamese both ways and is converted:
    the header matcher also tries a header's original text, see ``Workbook.originals``.)"""
    if not maybe_legacy(text):
        return text
    converted = decode_text(text, encoding)
    return converted if _garbage(converted) <= _garbage(unicodedata.normalize("NFC", text)) else text


# Characters beyond ASCII a clerk's Vietnamese text has besides its letters.
PUNCTUATION = frozenset("–—…“”‘’°№•\xa0")


def consistent(text: str) -> bool:
    """Whether ``text`` (a whole file, decoded) can be Vietnamese typed in the encoding it was
    decoded from: every character beyond ASCII is a Vietnamese letter or common punctuation.
    A byte the encoding does not turn into one (a stray byte of a damaged UTF-8 file, a
    character of another language) leaves a character that is neither."""
    letters = vietnamese_letters()
    return all(ch in letters or ch in PUNCTUATION for ch in set(text) if ord(ch) > 0x7F)


def decode_bytes(data: bytes) -> tuple[str, str] | None:
    """Text of a file that is not UTF-8: (text, the encoding it was in), or None when no legacy
    encoding reads the whole file consistently (``consistent``). Windows-1258 is decoded by its
    code page; TCVN3 and VNI are recognised on the Latin-1 reading."""
    candidates = []
    latin1 = data.decode("latin-1")
    if legacy := detect(unicodedata.normalize("NFC", latin1)):
        candidates.append((decode_text(latin1, legacy), legacy))
    with contextlib.suppress(UnicodeDecodeError):  # a byte Windows-1258 does not define
        candidates.append((unicodedata.normalize("NFC", data.decode("cp1258")), "Windows-1258"))
    candidates = [c for c in candidates if consistent(c[0])]
    return min(candidates, key=lambda c: _garbage(c[0])) if candidates else None


def maybe_legacy(text: str) -> bool:
    """Text that may be in a legacy font: Latin-1 letters and no Vietnamese letter beyond them.
    A template's Unicode headers beside data typed in a TCVN3 font are told apart this way."""
    if not _LATIN1_HIGH.search(text):
        return False
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    letters = vietnamese_letters()
    return not any(ch in letters for ch in _BEYOND_LATIN1.findall(text))


def decode_texts(texts: Iterable[str]) -> str | None:
    """The legacy encoding of the text cells of a file that may be in one (``maybe_legacy``),
    or None when they are Unicode."""
    sample = "\n".join(t for t in set(texts) if maybe_legacy(t))
    return detect(unicodedata.normalize("NFC", sample)) if sample else None
