"""The filename rule: 1 to 255 bytes of UTF-8, no '/', '\\', NUL, control or format characters
(Unicode Cc and Cf: bidi overrides, zero-width characters), not '.' or '..' (so 'a..b.txt' is
fine). Pure: no I/O."""

import unicodedata

MAX_FILENAME_BYTES = 255


def filename_problem(filename: str) -> str | None:
    """Why this filename is refused, or None when it is acceptable."""
    try:
        size = len(filename.encode("utf-8"))
    except UnicodeEncodeError:
        return "filename is not valid Unicode (lone surrogate)"
    if size == 0:
        return "filename must not be empty"
    if size > MAX_FILENAME_BYTES:
        return f"filename is {size} bytes; at most {MAX_FILENAME_BYTES} are allowed"
    if filename in (".", ".."):
        return f"filename must not be '{filename}'"
    for character in filename:
        if character in "/\\":
            return f"filename must not contain '{character}' (no paths)"
        category = unicodedata.category(character)
        if category == "Cc":
            return f"filename must not contain control characters (U+{ord(character):04X})"
        if category == "Cf":  # bidi overrides make "\u202egpj.exe" display as "exe.jpg"
            return f"filename must not contain format characters (U+{ord(character):04X})"
    return None
