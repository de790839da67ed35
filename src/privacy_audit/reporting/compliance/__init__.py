"""The compliance report for auditors: the run (``run``), its sections, charts' measures, policy text."""
