"""The anonymized trend report: aggregates → disclosure control → independent verifier → publication."""
