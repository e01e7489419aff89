"""Domain errors. Each carries the extensions.code clients see; no GraphQL imports here."""


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


class MigrationError(Exception):
    """The database's migrations do not match this version's migration files."""


class SettingsError(Exception):
    """A setting is unusable; the message is one line for the operator."""
