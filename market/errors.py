"""Known business refusals. ``str(error)`` is plain Chinese, safe to show the user."""

from __future__ import annotations


class UserFacingError(Exception):
    """A known reason to refuse; the dialog engine replies with its message."""


class NotRegistered(UserFacingError):
    pass


class AlreadyRegistered(UserFacingError):
    pass
