"""The error every layer raises when a request cannot run, and how it is answered."""

from schema.errors import BAD_USER_INPUT, coded_error


class RequestError(Exception):
    """A request (or one operation of it) that cannot run: an HTTP status (transports without
    one ignore it) and one coded error."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = BAD_USER_INPUT,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    @property
    def error(self) -> dict[str, object]:
        return coded_error(self.message, self.code)
