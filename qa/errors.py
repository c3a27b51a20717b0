"""Errors that reach the user as one clear line, never a traceback."""

from __future__ import annotations


class QAError(ValueError):
    """A user-facing error: bad input, missing corpus, unusable store or backend."""


class BackendError(QAError):
    """The language-model backend failed (server down, timeout, bad reply)."""
