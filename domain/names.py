"""Organisation name normalisation and similarity.

`normalise_name("Apex Durable Medical Equipment, Inc.")` and
`normalise_name("APEX DURABLE MEDICAL EQUIPMENT INCORPORATED")` are both
`"apex durable medical equipment"`: case, punctuation, `&`/`and`, and the legal-form
suffixes (Inc./Incorporated, L.L.C./LLC/Limited Liability Company, Corp., Co., Ltd., ...)
are folded away, so different spellings of one legal name compare equal.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

_LEGAL_FORMS = (
    "limited liability company",
    "limited liability partnership",
    "professional corporation",
    "incorporated",
    "corporation",
    "company",
    "limited",
    "pllc",
    "llc",
    "llp",
    "inc",
    "corp",
    "co",
    "ltd",
    "lp",
    "pc",
    "pa",
    "plc",
)
_FORM_PATTERN = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in _LEGAL_FORMS) + r")\b")
_DOTTED_ABBREVIATION = re.compile(r"\b((?:[a-z]\.){2,})")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = _DOTTED_ABBREVIATION.sub(lambda m: m.group(1).replace(".", ""), text)  # l.l.c. -> llc
    text = text.replace("&", " and ")
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalise_name(name: str) -> str:
    """The comparable core of an organisation name (legal form, case and punctuation removed)."""
    folded = _fold(name)
    # Only trailing legal forms are dropped: "Co" inside "Gulf Co Surgical" stays.
    while True:
        stripped = re.sub(r"(?:\s|^)(?:" + _FORM_PATTERN.pattern + r")$", "", folded).strip()
        if stripped == folded or not stripped:
            break
        folded = stripped
    return folded


def name_similarity(a: str, b: str) -> float:
    """0-100: token-order-insensitive similarity of the normalised names."""
    left, right = normalise_name(a), normalise_name(b)
    if not left or not right:
        return 0.0
    return float(fuzz.token_sort_ratio(left, right))


def name_control(name: str) -> str:
    """IRS-style business name control: the first four letters/digits of the normalised name."""
    return normalise_name(name).replace(" ", "")[:4].upper()
