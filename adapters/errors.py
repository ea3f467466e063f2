"""Typed adapter errors. Activities translate them into Temporal errors
(activities/errors.py): transient ones are retried with backoff (honouring Retry-After),
business ones become non-retryable `ApplicationError`s whose `type` is `stable_type`.

Messages never contain tax ids, bank numbers or personal names.
"""

from __future__ import annotations


class AdapterError(Exception):
    def __init__(self, system: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.system = system
        self.message = message
        self.status = status


class TransientError(AdapterError):
    """Timeouts, connection failures, 408/425/429/5xx: worth retrying."""

    def __init__(
        self, system: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(system, message, status=status)
        self.retry_after = retry_after


class BusinessRuleError(AdapterError):
    """The system refused the request on its merits (400/409/422): retrying cannot help."""

    def __init__(self, system: str, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(system, message, status=status)
        self.code = code

    @property
    def stable_type(self) -> str:
        return f"{self.system}.{self.code}"


class NotFoundError(BusinessRuleError):
    def __init__(self, system: str, message: str) -> None:
        super().__init__(system, "not_found", message, status=404)


class AuthenticationError(BusinessRuleError):
    """401/403: the platform's credentials for this system are wrong; fix settings, not retry."""

    def __init__(self, system: str, message: str, *, status: int) -> None:
        super().__init__(system, "unauthorized", message, status=status)
