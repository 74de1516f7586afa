"""Benchmarks of the platform; ``python -m bench.ingest`` measures the ingest path."""
