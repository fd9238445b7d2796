"""The production way to run the web: gunicorn as Procfile.production says, static files by
WhiteNoise after collectstatic, no debug pages, and HTTPS ended at a proxy in front (HTTPS=true).
"""

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.deployment.procfile import procfile_command

ROOT = Path(__file__).resolve().parents[2]
#: How long gunicorn may take to answer its first request.
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def production_web(tmp_path, **environment):
    """A release as README "Deployment" says: migrate, collectstatic, then the `web` process.
    Yields the base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "HTTPS", "DEBUG"))}
    env.update({"DEBUG": "false", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "STATIC_ROOT": str(tmp_path / "static"), "SECRET_KEY": "p" * 60,
                **environment})
    python = [sys.executable, "manage.py"]
    subprocess.run([*python, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True,
                   timeout=120)
    subprocess.run([*python, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    web = subprocess.Popen(["sh", "-c", f"exec {procfile_command('web', env)}"], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        # gunicorn accepts connections before its worker has imported Django (slow on a busy
        # machine or a fresh checkout without bytecode): a refused connection and a slow first
        # answer both mean "not up yet".
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                requests.get(f"{base}/admin/login/", timeout=10, allow_redirects=False)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise AssertionError(
                        f"gunicorn did not answer within {STARTUP_SECONDS} s") from None
                time.sleep(0.2)
        yield base
    finally:
        web.terminate()
        web.wait(timeout=10)


def test_gunicorn_from_the_production_procfile_serves_the_login_page_and_static_files(
        tmp_path):
    # given a production-like environment: DEBUG off, its own database and static folder
    # when gunicorn starts as the Procfile says
    with production_web(tmp_path) as base:
        login = requests.get(f"{base}/admin/login/", timeout=30)
        # then the login page, its stylesheet, and a plain 404 without debug information
        assert login.status_code == 200
        css = re.search(r'href="(/static/admin/css/base[^"]*\.css)"', login.text)
        assert css, "the login page links the admin stylesheet"
        assert requests.get(base + css[1], timeout=30).status_code == 200
        missing = requests.get(f"{base}/bestaat-niet/", timeout=30)
        assert missing.status_code == 404
        assert "Traceback" not in missing.text and "DEBUG = True" not in missing.text


def test_behind_a_tls_proxy_plain_http_is_redirected_and_https_gets_secure_cookies(tmp_path):
    # given HTTPS=true: a proxy on this machine (FORWARDED_ALLOW_IPS' default, 127.0.0.1) ends
    # TLS and says so with X-Forwarded-Proto
    with production_web(tmp_path, HTTPS="true", ALLOWED_HOSTS="crm.example.nl",
                        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode()) as base:
        host = {"Host": "crm.example.nl"}

        # when a request arrives that did not come through TLS
        plain = requests.get(f"{base}/admin/login/", headers=host, timeout=30,
                             allow_redirects=False)
        # and one that did
        proxied = requests.get(f"{base}/admin/login/", timeout=30, allow_redirects=False,
                               headers={**host, "X-Forwarded-Proto": "https"})

    # then the first is sent to https, the second is served with HSTS and a Secure cookie
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://crm.example.nl/admin/login/"
    assert proxied.status_code == 200
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "secure" in proxied.headers["Set-Cookie"].lower()


def test_the_worker_process_is_qcluster():
    # then: the same worker command everywhere; more workers are more of this process
    assert procfile_command("worker", {}).endswith("manage.py qcluster")
