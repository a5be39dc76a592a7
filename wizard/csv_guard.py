"""CSV cells that a spreadsheet reads as text, never as a formula (OWASP, "CSV Injection").

Staff open the tenant export in Excel, LibreOffice or Google Sheets. A tenant name or a username
is typed by someone else, so a cell must never start a formula there. OWASP's advice, followed
in full (docs/decisions/0010-csv-export-guard.md says why not defusedcsv):

- a cell whose first character, after any spaces, is ``=``, ``+``, ``-``, ``@``, a tab, a
  carriage return or a line feed (or the full-width ``＝ ＋ － ＠`` that some locales read as
  formulas) gets a single quote in front;
- a separator (``,`` ``;`` tab), a line break or a quote inside a value can start a new cell in
  a reader that splits differently (a ``;`` locale, a line-based tool), so the text after each of
  them is treated as the start of a cell too;
- every field is quoted (``csv.QUOTE_ALL``), and quotes inside are doubled.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

# What makes a spreadsheet read a cell as a formula.
INITIATORS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Characters after which another reader may start a new cell.
CELL_BREAKS = frozenset(",;\t\r\n\"'")
# Skipped before the first character, as LibreOffice's "trim spaces" import option does.
SPACES = frozenset(" \u00a0\u3000")


def neutralise(value: Any) -> str:
    """The value as text, with a quote before every place where a formula could start."""
    text = "" if value is None else str(value)
    out: list[str] = []
    at_cell_start, cell_start = True, 0
    for ch in text:
        if at_cell_start and ch in SPACES:
            out.append(ch)
            continue
        if at_cell_start and ch in INITIATORS:
            out.insert(cell_start, "'")
        at_cell_start = False
        out.append(ch)
        if ch in CELL_BREAKS:
            at_cell_start, cell_start = True, len(out)
    return "".join(out)


class _Echo:
    def write(self, value: str) -> str:
        return value


class SafeWriter:
    """``csv.writer`` that returns each line (for streaming) with every cell neutralised."""

    def __init__(self) -> None:
        self._writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)

    def row(self, values: Iterable[Any]) -> str:
        line: str = self._writer.writerow([neutralise(v) for v in values])
        return line
