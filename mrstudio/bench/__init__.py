"""Benchmarks: cine (Table 1 analogue), ct (Table 2 analogue), perf."""
