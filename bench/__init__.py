"""Benchmarks (`make bench`). Only ``bench.urls`` is ever imported by the app, and only with BENCH_ENDPOINTS on."""
