"""Benchmarks: `make bench` prints the performance table (ratios measured in one run)."""
