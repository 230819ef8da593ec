"""Word wrapping by terminal cells, fast enough to re-wrap 10,000 messages on a resize.

Rich's ``Text.wrap`` is exact but costs tens of microseconds per message; the transcript only needs plain
words broken at spaces, with over-long words split by cell width (wide characters count two cells).
"""

from __future__ import annotations

from rich.cells import cell_len, chop_cells


def wrap_cells(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` cells; always at least one line."""
    width = max(1, width)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if cell_len(paragraph) <= width:
            lines.append(paragraph)
            continue
        current = ""
        current_len = 0
        for word in paragraph.split(" "):
            word_len = cell_len(word)
            if current_len and current_len + 1 + word_len <= width:
                current += " " + word
                current_len += 1 + word_len
                continue
            if current_len or current:
                lines.append(current)
            if word_len <= width:
                current, current_len = word, word_len
                continue
            pieces = chop_cells(word, width)
            lines.extend(pieces[:-1])
            current = pieces[-1]
            current_len = cell_len(current)
        lines.append(current)
    return lines or [""]
