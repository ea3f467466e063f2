"""Test helpers shared by the adapter, workflow and end-to-end suites."""
