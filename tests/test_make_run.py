"""`make run` is one command that starts daphne and the worker, and stops both.

It runs the embedded default (SQLite, in-memory channel layer) in a temporary folder, as a
person trying Diancan out would: migrate, load the demo, then serve.
"""

import os
import signal
import subprocess
import time
import urllib.request

from tests.live import ROOT, free_port


def group_processes(pgid):
    """(pid, command line) of every live process in the process group."""
    listing = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-g", str(pgid)], capture_output=True, text=True
    ).stdout
    rows = [line.split(None, 2) for line in listing.splitlines() if line.strip()]
    return [(int(pid), args) for pid, stat, args in rows if not stat.startswith("Z")]


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def pinged(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_make_run_starts_daphne_with_the_worker_inside_and_stops_it(tmp_path):
    """The embedded default (no Redis): the worker runs inside the one daphne process
    (tests/test_worker_inside.py shows its pushes reach the sockets)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/run.sqlite3",
        MEDIA_ROOT=str(tmp_path / "media"),
        PORT=str(port),
        LOG_LEVEL="INFO",
    )
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        make = subprocess.Popen(
            ["make", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )  # fmt: skip
    try:
        wait(lambda: pinged(f"http://127.0.0.1:{port}/ping"), 120, f"daphne: {log.read_text()}")
        wait(lambda: "worker: started inside daphne" in log.read_text(), 20, "the worker")
        running = [args for _pid, args in group_processes(make.pid)]
        assert any("-m daphne" in args for args in running), running
        assert not any("-m django worker" in args for args in running), running
        # A service manager's SIGTERM to the launcher alone (Ctrl-C signals every process of
        # the group, an easier case): it stops both.
        serve = [pid for pid, args in group_processes(make.pid) if "manage.py serve" in args]
        os.kill(serve[0], signal.SIGTERM)
        make.wait(timeout=30)
        wait(lambda: not group_processes(make.pid), 15, "daphne (and its worker) to stop")
    finally:
        if make.poll() is None or group_processes(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
