"""Run as a process: take the scheduler lock, say so, and hold it until killed."""

import os
import sys
import time

from booking import create_app
from booking.scheduler import scheduler_lock
from config import TestConfig

app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                  "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
                  "SCHEDULER_LOCK_FILE": os.environ["SCHEDULER_LOCK_FILE"]})
with scheduler_lock(app):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes stdin or kills us
    time.sleep(0)
