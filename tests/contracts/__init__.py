"""Contract tests for the ERP ports, run against every ERP we have an adapter for (the sandbox
over HTTP, Tryton over JSON-RPC): what one ERP passes, the other must pass too."""
