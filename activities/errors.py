"""Adapter errors -> Temporal errors, in one place.

- `TransientError` -> retryable `ApplicationError`, with `next_retry_delay` set from
  Retry-After so the retry waits as long as the system asked;
- `BusinessRuleError` -> non-retryable `ApplicationError` whose `type` is the stable
  `<system>.<code>` (e.g. `erp.duplicate_tax_id`), so the workflow can route it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError

from adapters.errors import BusinessRuleError, TransientError

P = ParamSpec("P")
R = TypeVar("R")


def translate_adapter_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except TransientError as error:
            delay = timedelta(seconds=error.retry_after) if error.retry_after else None
            raise ApplicationError(
                f"{error.system} unavailable: {error.message}",
                type=f"{error.system}.transient",
                next_retry_delay=delay,
            ) from error
        except BusinessRuleError as error:
            raise ApplicationError(
                f"{error.system} refused: {error.message}", type=error.stable_type, non_retryable=True
            ) from error

    return wrapper
