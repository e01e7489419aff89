"""Domain errors. Each carries the extensions.code clients see; no GraphQL imports here."""

import errno


class DomainError(Exception):
    """An expected error whose message is safe to show to the client."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    code = "BAD_USER_INPUT"


class NotFoundError(DomainError):
    code = "NOT_FOUND"


class ConflictError(DomainError):
    code = "CONFLICT"


class PreconditionFailedError(DomainError):
    code = "PRECONDITION_FAILED"


class PayloadTooLargeError(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class UnauthenticatedError(DomainError):
    code = "UNAUTHENTICATED"


class ForbiddenError(DomainError):
    code = "FORBIDDEN"


class QueryTooComplexError(DomainError):
    code = "QUERY_TOO_COMPLEX"


class StorageError(DomainError):
    """The data dir cannot take a write (its disk is full, or it is read-only or not writable).
    The server's fault, so INTERNAL_SERVER_ERROR, but said plainly (never masked: the operator
    must know), with extensions.reason DISK_FULL or DATA_DIR_UNWRITABLE."""

    FULL = "DISK_FULL"
    UNWRITABLE = "DATA_DIR_UNWRITABLE"
    _MESSAGES = {
        FULL: "the server's disk is full",
        UNWRITABLE: "the server's data dir is not writable",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self._MESSAGES[reason])
        self.reason = reason


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_UNWRITABLE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


def storage_error(error: OSError) -> StorageError | None:
    """The StorageError an OSError from writing to the data dir stands for, if any."""
    if error.errno in _FULL_ERRNOS:
        return StorageError(StorageError.FULL)
    if error.errno in _UNWRITABLE_ERRNOS:
        return StorageError(StorageError.UNWRITABLE)
    return None


class MigrationError(Exception):
    """The database's migrations do not match this version's migration files."""


class SettingsError(Exception):
    """A setting is unusable; the message is one line for the operator."""
