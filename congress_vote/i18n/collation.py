"""Vietnamese name order.

Vietnamese lists are sorted by the given name (the last word of the full name), then by the family
and middle names, using the Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u
ư v x y) and, only where the letters are equal, the tones in dictionary order (level, huyền, hỏi,
ngã, sắc, nặng). Letters outside the alphabet (f, j, w, z, digits) sort after their neighbours.

`name_sort_key` returns a lowercase hexadecimal string, so the database can sort by it with any
collation (PostgreSQL's en_US collation ignores punctuation, so the key uses none).
"""

from __future__ import annotations

import unicodedata

_ALPHABET = [
    "a",
    "ă",
    "â",
    "b",
    "c",
    "d",
    "đ",
    "e",
    "ê",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "ô",
    "ơ",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "ư",
    "v",
    "w",
    "x",
    "y",
    "z",
]
_RANK = {letter: i + 0x10 for i, letter in enumerate(_ALPHABET)}
for _d in "0123456789":
    _RANK[_d] = 0x02 + int(_d)  # digits first, below every letter
# Tone marks (combining characters after NFD) in dictionary order; 0 = level tone.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Marks that make a distinct letter of the alphabet rather than a tone.
_LETTER_MARKS = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}


def _letters(word: str) -> tuple[list[int], list[int]]:
    """Split a word into alphabet ranks and tone ranks."""
    ranks: list[int] = []
    tones: list[int] = []
    for ch in word.lower():
        if ch == "đ":
            ranks.append(_RANK["đ"])
            tones.append(0)
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        tone = 0
        for mark in marks:
            if (base, mark) in _LETTER_MARKS:
                base = _LETTER_MARKS[(base, mark)]
            elif mark in _TONES:
                tone = _TONES[mark]
        if base in _RANK:
            ranks.append(_RANK[base])
            tones.append(tone)
        elif base.isalnum():
            ranks.append(0x7F)  # other scripts: after the Vietnamese alphabet, stable
            tones.append(0)
    return ranks, tones


def _hex(values: list[int]) -> str:
    return "".join(f"{v:02x}" for v in values)


def name_sort_key(full_name: str) -> str:
    """Sort key: given name, then family and middle names; letters first, tones to break ties."""
    words = unicodedata.normalize("NFC", full_name).split()
    if not words:
        return ""
    ordered = [words[-1]] + words[:-1]
    primary: list[int] = []
    secondary: list[int] = []
    for word in ordered:
        ranks, tones = _letters(word)
        primary += ranks + [0x01]  # 01 ends a word: "An" sorts before "Anh"
        secondary += tones + [0]
    return _hex(primary) + "00" + _hex(secondary)


def sort_names(items, key=lambda x: x):
    """Sort any iterable by the Vietnamese order of key(item)."""
    return sorted(items, key=lambda item: name_sort_key(key(item)))


def given_initial(full_name: str) -> str:
    """The first letter of the given name (the last word) as a capital of the Vietnamese
    alphabet ("Đặng Quốc Khánh" → "K", "Lê Văn Ước" → "Ư"); "" when it is not a letter."""
    words = unicodedata.normalize("NFC", full_name).split()
    if not words:
        return ""
    ranks, _tones = _letters(words[-1][:1])
    if not ranks or ranks[0] not in _LETTER_OF_RANK:
        return ""
    return _LETTER_OF_RANK[ranks[0]].upper()


def initials_in_order(full_names) -> list[str]:
    """The distinct given-name initials of `full_names`, in Vietnamese alphabet order."""
    found = {given_initial(n) for n in full_names} - {""}
    return sorted(found, key=lambda letter: _RANK[letter.lower()])


_LETTER_OF_RANK = {rank: letter for letter, rank in _RANK.items() if letter.isalpha()}
