"""Settings for the webhook benchmark: production settings (DEBUG off) plus the /bench/ baseline endpoints.

Only `make bench` uses this module. The endpoints check no secret: never deploy with it.
"""

from crm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.root_urls"
BENCH_ENDPOINTS = False  # mounted by bench.root_urls, not by crm.urls
