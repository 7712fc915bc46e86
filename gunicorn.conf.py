"""gunicorn's settings for production (read from the working directory: `gunicorn crm.wsgi`).

The access log leaves out query strings (a webhook's `?token=`, lead searches) and the referer;
every record is also redacted by the app's logging set-up (crm/logging.py).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Workers = cores: more sync workers than cores were slower on the measured machine (docs/performance.md).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Access logging is off unless asked for (`--access-logfile -`); when on, it uses this format.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
