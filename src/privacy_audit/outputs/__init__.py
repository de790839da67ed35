"""What a run writes: findings.parquet and summary.json, and how every command writes its outputs."""
