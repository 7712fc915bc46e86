"""Benchmarks (`make bench`), run under ``bench.settings``.

The app itself imports ``bench.urls`` only with BENCH_ENDPOINTS and DEBUG on.
"""
