"""Ports and adapters: `<system>.py` holds the port (a typing.Protocol with business verbs, no I/O
imports, safe for workflows to import through activities/), `<system>_http.py` its httpx
implementation over `http.SystemClient`; `store.py` is the store as the activities see it."""
