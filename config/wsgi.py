"""WSGI entry point: `gunicorn config.wsgi` in production (static files served by WhiteNoise)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, their modules) lives as long as the process: move it out of the
# garbage collector's generations, so that a full collection in the middle of a request scans only what requests
# made. About 1-2 ms off the p50 of a page and of Run -> result in bench/push_bench.py.
gc.freeze()
