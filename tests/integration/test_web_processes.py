"""``python app.py web`` with ``PDM_WEB_PROCESSES=3`` on one real PostgreSQL: gunicorn's
workers share nothing but the database, and a user sees one app. Signed in through one
worker, the session works on another; signed out on that one, it ends on the first; failed
sign-ins count across workers; ``/metrics`` counts every worker's requests. Each answer names
the worker that served it (X-Served-By), and each HTTP client here keeps one connection, so
stays on one worker."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from app_processes import Proc, app_env
from services import free_port, wait_port

PROCESSES = 3
METRICS_TOKEN = "m" * 40
HEALTHZ = re.compile(
    r'^pdm_http_request_seconds_count\{method="GET",route="/healthz",status="2xx"\} (\S+)$', re.M
)


def _served_by(answer: requests.Response) -> str:
    served = answer.headers.get("X-Served-By", "")
    assert served.startswith("web-"), answer.headers
    return served


def _clients_on_different_workers(
    base: str, count: int
) -> tuple[list[tuple[requests.Session, str]], int]:
    """``count`` HTTP clients sharing one cookie jar, each kept on its own worker, and how
    many ``/healthz`` requests finding them took."""
    jar = requests.cookies.RequestsCookieJar()
    found: dict[str, requests.Session] = {}
    for tries in range(1, 201):  # the kernel gives a new connection to whichever worker accepts
        client = requests.Session()
        client.cookies = jar
        served = _served_by(client.get(f"{base}/healthz", timeout=30))
        if served not in found:
            found[served] = client
        if len(found) == count:
            return [(c, s) for s, c in found.items()], tries
    raise AssertionError(f"new connections reached only {sorted(found)}")


def _on(client: tuple[requests.Session, str], method: str, url: str, **kw) -> requests.Response:
    """One request on a client's connection, checked to have been served by its worker."""
    answer = client[0].request(method, url, allow_redirects=False, timeout=30, **kw)
    assert _served_by(answer) == client[1], "the connection moved to another worker"
    return answer


def _sign_in(client, base: str, username: str, password: str) -> int:
    page = _on(client, "GET", f"{base}/login").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": csrf, "username": username, "password": password}
    return _on(client, "POST", f"{base}/login", data=form).status_code


def test_a_session_and_the_sign_in_throttle_hold_across_web_processes(
    postgres, mosquitto, tmp_path: Path
):
    env = app_env(
        postgres.new_database(),
        mosquitto.url,
        PDM_VAR_DIR=str(tmp_path / "var"),
        PDM_SECRET_KEY="w" * 40,
        PDM_VIEWER_PASSWORD="viewer-pw-9",
        PDM_DEMO_MACHINES="0",
        PDM_LOGIN_FAILURES_PER_ACCOUNT="3",
        PDM_WEB_PROCESSES=str(PROCESSES),
        PDM_METRICS_TOKEN=METRICS_TOKEN,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = Proc(["app.py", "web", "--port", str(port)], env, tmp_path / "web.log")
    try:
        wait_port(port, timeout=90)
        (a, b, c), probes = _clients_on_different_workers(base, PROCESSES)
        workers = {a[1], b[1], c[1]}
        assert f"web-{web.popen.pid}" not in workers  # the master only watches them

        # signed in on worker a: the session works on b and c
        assert _sign_in(a, base, "admin", "admin-pw-9") == 302
        for client in (a, b, c):
            me = _on(client, "GET", f"{base}/api/me")
            assert me.status_code == 200 and me.json()["username"] == "admin", client[1]

        # signed out on b: ended on a and c as well
        assert _on(b, "POST", f"{base}/logout").status_code == 302
        for client in (a, b, c):
            assert _on(client, "GET", f"{base}/api/me").status_code == 401, client[1]

        # one wrong password on each worker uses up the account's three tries everywhere
        assert [_sign_in(x, base, "viewer", "wrong") for x in (a, b, c)] == [401] * 3
        refused = [_sign_in(x, base, "viewer", "viewer-pw-9") for x in (a, b, c)]
        assert refused == [429] * 3, web.log.read_text()[-2000:]

        # one scrape, on whichever worker, counts the probes every worker served
        for client in (a, b, c):
            auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            scraped = _on(client, "GET", f"{base}/metrics", headers=auth).text
            assert [float(n) for n in HEALTHZ.findall(scraped)] == [probes], client[1]
    finally:
        assert web.terminate() == 0, web.log.read_text()[-2000:]
