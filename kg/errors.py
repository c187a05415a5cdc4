"""Every exception the project raises on purpose, each with the one HTTP status it means.

A given error has one status everywhere: the server registers one handler for :class:`KGError`
(:mod:`kg.server.errors`) that answers ``status`` with the message, and the CLI prints the
message as one line. Anything else that escapes is our bug (a 500 with a request id). How long a client should
wait after a 503 is one setting, ``KG_RETRY_AFTER``.

>>> QueryRejected("expected WHERE").status, NotAcceptable("").status, QueryTimeout("").status
(400, 406, 503)
"""

from __future__ import annotations


class KGError(Exception):
    """An error a user can act on; ``status`` is what HTTP answers with."""

    status = 400


class QueryRejected(KGError):
    """A query or update that is malformed or cannot be answered."""

    status = 400


class QueryRefused(QueryRejected):
    """A query or update past a limit of what this endpoint runs (nesting, length, SERVICE, LOAD)."""


class DatasetConflict(QueryRejected):
    """Protocol dataset parameters that contradict the update's own USING/WITH."""


class ProtocolError(KGError):
    """A request the SPARQL Protocol does not allow; the status depends on what is wrong."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class NotAcceptable(KGError):
    """No offered media type fits the Accept header."""

    status = 406


class EntityNotFound(KGError):
    """Nothing is known about the IRI."""

    status = 404


class BadParameter(KGError):
    """A page parameter with a value the page does not know (``/search?type=bogus``)."""

    status = 400
class ChangeNotFound(KGError):
    """The change feed has no such generation or page (malformed, or not made yet)."""

    status = 404


class ChangeGone(KGError):
    """A change the feed recorded once but no longer keeps (``KG_CHANGES_RETENTION``)."""

    status = 410


class MalformedIdentifier(KGError):
    """An entity ID of the wrong shape or with a wrong check digit."""

    status = 400


class QueryTimeout(KGError):
    """A query ran past the time limit and was stopped."""

    status = 503


class ServiceBusy(KGError):
    """No worker became free in time."""

    status = 503


class StoreError(KGError):
    """A problem with the store that the user can act on."""

    status = 503


class StoreBusy(StoreError):
    """Another process is building a generation."""


class InputError(KGError):
    """A file cannot be read as this source at all (not a record-level problem)."""

    status = 400


class LoadError(KGError):
    """A load that was refused or failed; the previously loaded data is untouched."""

    status = 400


class StrictFailure(LoadError):
    """``--strict``: a record was rejected, so nothing was loaded."""
