"""Known business refusals. ``str(error)`` is plain Chinese, safe to show the user."""

from __future__ import annotations


class UserFacingError(Exception):
    """A known reason to refuse; the dialog engine replies with its message."""


class NotRegistered(UserFacingError):
    """The person has not registered (yet) for what they asked."""


class AlreadyRegistered(UserFacingError):
    """The person is already registered in that role."""
