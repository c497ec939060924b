"""Settings for the test suite: production settings with a fast password hasher and a per-process memory cache.

PBKDF2 costs about 0.45 s per persona and dominated the suite's time; production keeps Django's default hashers
(tests/test_production.py checks that). The memory cache is cleared before every test (tests/conftest.py), so no
test sees another's rate-limit counters or cached enrolments.
"""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# View tests have no worker, so a console POST would always wait its full bound for nothing; the tests of the
# inline wait (tests/labs/test_push.py, tests/browser/test_lab_push.py) turn it back on.
LAB_RUN_INLINE_WAIT_MS = 0
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
