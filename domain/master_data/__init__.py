"""Governed master data: which system is authoritative for which field (the survivorship policy,
policy.py), and the golden record and drift computed from the systems' records (survivorship.py).
Pure functions only; the sync workflow reads the systems and applies the corrections."""
