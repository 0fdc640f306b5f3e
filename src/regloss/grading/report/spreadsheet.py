"""CSV files a spreadsheet opens safely: a cell that would start a formula is written as text.

Student ids, names, file names and problems come from students and their LMS profiles,
and every file the report writes (``grades.csv``, ``mistakes.csv``, ``canvas.csv``,
``moodle.csv``) is opened in Excel, LibreOffice or Google Sheets, which run a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a carriage return, what
follows) as a formula: ``=HYPERLINK(...)``, ``=cmd|...``. Such a cell is written with a
leading apostrophe, which every spreadsheet shows as text (OWASP's advice for CSV
injection); everything else is written as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

#: What a spreadsheet may read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it as text: a string that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class Writer:
    """``csv.writer`` whose every row's strings go through :func:`cell`."""

    def __init__(self, f: IO[str]) -> None:
        self._w = csv.writer(f)

    def writerow(self, row: Iterable[Any]) -> None:
        self._w.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
