"""Canonical SupplyBridge models and pure business rules: no I/O, no Temporal."""
