"""One module per business process. Deterministic: imports domain and temporalio only."""
