"""gunicorn settings for `dev.py serve` and the benchmarks (read from the working dir).

Command-line flags override these; WEB_CONCURRENCY, THREADS and BIND set the
common ones from the environment.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Threaded workers: a sync worker cannot report to the master while it streams a
# long download, and is killed after `timeout` seconds mid-file; a gthread
# worker's main loop keeps reporting while its threads serve.
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
timeout = 60
# Idle coders keep their connection while they read a span.
keepalive = 75
# annotator.middleware.RequestLogMiddleware writes one line per request already.
accesslog = None
