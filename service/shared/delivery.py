"""What a message handler says when trying again cannot help (shared by the outbox and the
capabilities whose handlers it runs, so neither imports the other)."""

from __future__ import annotations


class GiveUpError(Exception):
    """Raised by a handler when trying again cannot help (the receiver refused the message):
    the message is marked failed at once, with the reason, for an operator to look at."""
