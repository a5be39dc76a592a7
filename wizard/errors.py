"""The one base class of every error a person is meant to read.

A service raises a subclass with the sentence to show; a view catches ``UserFacingError`` once
and shows ``message``, instead of listing exception tuples and writing its own text.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the person can act on, in their words. ``message`` is shown as it is."""

    # The default sentence of the class, when the raiser has nothing more specific to say.
    default_message = "That could not be done. Try again, or ask your administrator."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
