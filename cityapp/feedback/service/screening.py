"""Text screening for anything residents write (reports now, survey answers later).

``screen_text`` is pure: it knows nothing about reports and returns what it found. Profanity
is matched word by word (so "Ausschuss" or "Schwanstraße" never hit), after undoing common
leetspeak and letter stretching ("sh1t", "fuuuck"). Personal data (phone numbers, email
addresses, licence plates), links and shouting are flagged too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_WORDLIST_DIR = Path(__file__).resolve().parent.parent / "wordlists"
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_TOKEN_RE = re.compile(r"[\w@$!]+", re.UNICODE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# +49 … or a leading 0, then at least 6 more digits with the usual separators.
_PHONE_RE = re.compile(r"(?<![\w.])(?:\+\d{2} ?|0)\d[\d /()-]{4,}\d(?![\w.])")
# German plates: district code, letters, digits (KS-AB 123, KS AB 1234E); upper case only.
_PLATE_RE = re.compile(r"\b[A-ZÄÖÜ]{1,3}[- ][A-Z]{1,2} ?[1-9]\d{0,3}[EH]?\b")
_LINK_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:de|com|net|org|info|ru|cn|io|xyz|biz)\b(?:/\S*)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FilterHit:
    kind: str  # profanity | personal_data | link | shouting
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail}


def _squash(word: str) -> str:
    """Lower case, leetspeak undone, umlauts kept, runs of a letter collapsed to one."""
    word = unicodedata.normalize("NFC", word.lower()).translate(_LEET)
    word = word.replace("ß", "ss")
    return re.sub(r"(.)\1+", r"\1", word)


# Endings a "~" entry may take (inflection, not composition): "fick~" matches "ficken",
# "fickt", never the street "Fickelweg".
_ENDINGS = ("", "e", "en", "er", "ern", "es", "s", "t", "st", "te", "ten", "et", "n", "i")


@lru_cache(maxsize=1)
def _wordlists() -> tuple[frozenset[str], tuple[str, ...]]:
    """Entries: ``word`` (exact), ``stem~`` (stem + inflection), ``stem*`` (any word that
    starts with an unambiguous stem, e.g. compounds like "Scheißkerl")."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for path in sorted(_WORDLIST_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            if entry.endswith("*"):
                prefixes.append(_squash(entry[:-1]))
            elif entry.endswith("~"):
                exact.update(_squash(entry[:-1] + ending) for ending in _ENDINGS)
            else:
                exact.add(_squash(entry))
    return frozenset(exact), tuple(prefixes)


def _profanity(text: str) -> list[FilterHit]:
    exact, prefixes = _wordlists()
    hits = []
    for token in _TOKEN_RE.findall(text):
        if token.isdigit():
            continue
        squashed = _squash(token.strip("!"))
        if squashed in exact or any(squashed.startswith(p) for p in prefixes):
            hits.append(FilterHit("profanity", token))
    return hits


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 20:
        return False
    return sum(c.isupper() for c in letters) / len(letters) >= 0.7


def screen_text(text: str) -> list[FilterHit]:
    """Everything in ``text`` a moderator should look at before it goes public."""
    hits = _profanity(text)
    for match in _EMAIL_RE.finditer(text):
        hits.append(FilterHit("personal_data", "email"))
        text = text.replace(match.group(0), " ")
    for _match in _LINK_RE.finditer(text):
        hits.append(FilterHit("link", "link"))
    hits.extend(FilterHit("personal_data", "phone") for _ in _PHONE_RE.finditer(text))
    hits.extend(FilterHit("personal_data", "licence_plate") for _ in _PLATE_RE.finditer(text))
    if _shouting(text):
        hits.append(FilterHit("shouting", "mostly capital letters"))
    return hits


def is_obvious_spam(text: str, hits: list[FilterHit]) -> bool:
    """Several links, or links together with abuse: no resident reports a pothole like that."""
    links = sum(1 for h in hits if h.kind == "link")
    return links >= 3 or (links >= 1 and any(h.kind == "profanity" for h in hits))
