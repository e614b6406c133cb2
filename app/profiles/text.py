"""What a display name and a bio may hold, checked and normalised before they are stored.

Both are shown to other people next to a handle, so they must not be able to pass for someone
else's or to rearrange the text around them: control characters, bidi overrides and isolates
(U+202A-U+202E, U+2066-U+2069) and invisible format characters are refused rather than
dropped, so the person learns what was wrong. Text is NFC-normalised, so one name is stored one
way however it was typed.
"""

from __future__ import annotations

import unicodedata

from core.errors import BadRequest

DISPLAY_NAME_MAX = 50
BIO_MAX = 500
BIDI_CONTROLS = frozenset(
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
)
_ZWJ = "\u200d"
# Categories a display name never holds: control, format (zero-width and bidi characters among
# them), surrogate, private use, unassigned, line and paragraph separators.
_NAME_REFUSED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _emoji_part(char: str) -> bool:
    """A character an emoji ZWJ sequence joins (a symbol, a skin tone, a variation selector)."""
    return unicodedata.category(char) in ("So", "Sk", "Mn")


def _refuse(field: str, char: str, why: str) -> BadRequest:
    return BadRequest(
        f"the {field.replace('_', ' ')} holds U+{ord(char):04X} ({why}), which it may not",
        code=f"{field}_invalid_characters",
        details={"character": f"U+{ord(char):04X}"},
    )


def display_name(raw: str) -> str:
    """``raw`` trimmed, with runs of white space made one space, NFC; or a 400 saying why not."""
    text = unicodedata.normalize("NFC", raw)
    for i, char in enumerate(text):
        if char in BIDI_CONTROLS:
            raise _refuse("display_name", char, "a bidirectional text control")
        if char == _ZWJ and 0 < i < len(text) - 1 and _emoji_part(text[i - 1]) and _emoji_part(text[i + 1]):
            continue  # joins an emoji sequence (a family, a flag, a skin tone)
        if char.isspace() and char not in "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029":
            continue
        if unicodedata.category(char) in _NAME_REFUSED:
            raise _refuse("display_name", char, "a control or invisible character")
    name = " ".join(text.split())
    if not name:
        raise BadRequest("the display name is empty; send null to remove it", code="display_name_empty")
    if len(name) > DISPLAY_NAME_MAX:
        raise BadRequest(
            f"the display name has {len(name)} characters; at most {DISPLAY_NAME_MAX} are allowed",
            code="display_name_too_long",
            details={"max_chars": DISPLAY_NAME_MAX},
        )
    return name


def bio(raw: str) -> str | None:
    """``raw`` NFC with line breaks made ``\\n`` and trimmed; None when nothing is left. Line
    breaks and tabs are kept; other control characters, bidi controls and lone surrogates are
    refused."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    for char in text:
        if char in BIDI_CONTROLS:
            raise _refuse("bio", char, "a bidirectional text control")
        if char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cs", "Co", "Zl", "Zp"):
            raise _refuse("bio", char, "a control character")
    if len(text) > BIO_MAX:
        raise BadRequest(
            f"the bio has {len(text)} characters; at most {BIO_MAX} are allowed",
            code="bio_too_long",
            details={"max_chars": BIO_MAX},
        )
    return text or None
