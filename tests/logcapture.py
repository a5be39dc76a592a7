"""Capture everything the app's log handlers write, as they write it, at DEBUG level.

pytest's ``caplog`` only sees records that reach the root logger; Django's loggers do not
propagate there (settings.LOGGING). This swaps the stream of every stream handler the
configuration installed (pytest's own excepted), on every logger, and lowers every level to
DEBUG, so a test sees each formatted line that production would print, and more.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager


def _loggers() -> list[logging.Logger]:
    named = [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    return [logging.getLogger(), *named]


@contextmanager
def everything_logged() -> Iterator[io.StringIO]:
    out = io.StringIO()
    levels: list[tuple[logging.Logger | logging.Handler, int]] = []
    streams: list[tuple[logging.StreamHandler[io.StringIO], object]] = []
    for lg in _loggers():
        levels.append((lg, lg.level))
        lg.setLevel(logging.DEBUG)
        for handler in lg.handlers:
            if not isinstance(handler, logging.StreamHandler):
                continue
            if type(handler).__module__.startswith("_pytest"):
                continue
            if any(h is handler for h, _ in streams):
                continue
            levels.append((handler, handler.level))
            handler.setLevel(logging.DEBUG)
            streams.append((handler, handler.setStream(out)))
    assert streams, "no log handler found: is settings.LOGGING applied?"
    try:
        yield out
    finally:
        for handler, stream in streams:
            handler.setStream(stream)  # type: ignore[arg-type]
        for thing, level in levels:
            thing.setLevel(level)


class RecordKeeper(logging.Handler):
    """Keeps the text of every record as it arrives at a logger, before any handler's filter
    rewrites it: message, arguments, and the request's path and Referer."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        request = getattr(record, "request", None)
        meta = getattr(request, "META", None) or {}
        self.texts.append(
            f"{record.msg!s} {record.args!r} {record.getMessage()} "
            f"{getattr(request, 'path', '')} {meta.get('HTTP_REFERER', '')}"
        )


@contextmanager
def records_kept() -> Iterator[RecordKeeper]:
    """Every raw record of every logger (root and Django's non-propagating ones)."""
    keeper = RecordKeeper()
    targets = [lg for lg in _loggers() if lg is logging.getLogger() or not lg.propagate]
    for lg in targets:
        lg.handlers.insert(0, keeper)  # first, before the redacting handler changes the record
    try:
        yield keeper
    finally:
        for lg in targets:
            lg.removeHandler(keeper)
