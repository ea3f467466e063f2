"""The one name the client cannot take from a method reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import temporalio.workflow


def signal_name(signal: Callable[[Any, Any], None]) -> str:
    """The registered name of a `@workflow.signal` method.

    Needed only for signal-with-start: `Client.start_workflow(start_signal=...)` takes a string
    in temporalio 1.35 (temporalio/client/_client.py), unlike `WorkflowHandle.signal`, which takes
    the method. It resolves the method the way the SDK's own `WorkflowHandle.signal` does
    (`temporalio.workflow._SignalDefinition.must_name_from_fn_or_str`, exported in
    `temporalio.workflow.__all__`), so the name stays where the workflow declares it; a method
    that is not a signal raises here, at the call, rather than signalling a name nobody handles.
    """
    return temporalio.workflow._SignalDefinition.must_name_from_fn_or_str(signal)
