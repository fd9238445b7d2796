"""REDIS_URL and Q_NAME reach django-q2 as meant: its Redis broker, on that server and database,
with the queue named Q_NAME. (No Redis is needed: only the connection's settings are read.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django_q.brokers import get_broker
from django_q.conf import Conf
broker = get_broker()
pool = getattr(broker.connection, "connection_pool", None)
kwargs = pool.connection_kwargs if pool else {"host": None, "port": None, "db": None}
print(json.dumps({"broker": type(broker).__name__, "host": kwargs["host"], "port": kwargs["port"],
                  "db": kwargs["db"], "queue": broker.list_key, "name": Conf.PREFIX,
                  "timeout": Conf.TIMEOUT, "retry": Conf.RETRY}))
"""


def _django_q_with(**environment) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "Q_"))}
    env.update(environment, DJANGO_SETTINGS_MODULE="settings.settings")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_redis_url_makes_the_redis_broker_on_that_server_and_database():
    found = _django_q_with(REDIS_URL="redis://queue.example:6380/3")
    assert found["broker"] == "Redis"
    assert (found["host"], found["port"], found["db"]) == ("queue.example", 6380, 3)
    assert found["queue"] == "django_q:digitalefactuur:q"
    assert found["retry"] > found["timeout"] >= 3600


def test_q_name_names_the_queue_of_every_worker_of_an_installation():
    found = _django_q_with(REDIS_URL="redis://127.0.0.1:6379/0", Q_NAME="crm-klant-b")
    assert found["name"] == "crm-klant-b" and found["queue"] == "django_q:crm-klant-b:q"


def test_without_redis_url_the_queue_is_the_database():
    assert _django_q_with()["broker"] == "ORM"
