"""The ingest benchmark: a recorded AMI stream replayed at full speed into the real bridge."""
