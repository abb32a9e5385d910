"""Measure arrival-to-ticket latency of the production IDLE path: a `helpdesk watch` process.

A private Dovecot serves one INBOX. `helpdesk watch` runs as its own
process, as in production, with its poll lock in Redis and its own database
connection. The main thread appends generated client mails (those of
bench/ingest.py) at a steady rate, and a thread looks for new inbound
messages in the database (watch_database of bench/ingest.py). The latency of a mail
is the time from the start of its APPEND to the first look that finds it
stored. No beat runs, so every mail is ingested by a poll that the watcher
started. One untimed mail goes first, because the first ingest of a new
process takes seconds longer than later ones.

Usage:
    .venv/bin/python bench/watch_latency.py [--messages 200] [--rate 5]
        [--database-url URL] [--redis-url redis://127.0.0.1:6379/N]

Needs Debian's dovecot-imapd and a Redis server. The database defaults to a
new SQLite file. Without --redis-url, an empty database number on
127.0.0.1:6379 is claimed the way the tests claim one, and emptied afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import redis

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "bench"))

from ingest import append_at_rate, bench_settings, generated_mail, print_latency, watch_database  # noqa: E402

from tests.services.dovecot import DovecotServer  # noqa: E402
from tests.services.redis import CLAIM_KEY, CLAIM_SECONDS, DATABASE_NUMBERS  # noqa: E402
from tests.services.worker import settings_environment  # noqa: E402

IDLE_RENEW_SECONDS = 600.0
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
WARM_UP_NUMBER = 100_000


@contextmanager
def claimed_redis_url(host: str = "127.0.0.1", port: int = 6379):
    """Yield the URL of an empty Redis database number, claimed like tests.services.redis does, and empty it afterwards."""
    for database in DATABASE_NUMBERS:
        client = redis.Redis(host=host, port=port, db=database)
        if not client.set(CLAIM_KEY, "1", nx=True, ex=CLAIM_SECONDS):
            continue
        if client.dbsize() > 1:
            client.delete(CLAIM_KEY)
            continue
        try:
            yield f"redis://{host}:{port}/{database}"
        finally:
            client.flushdb()
            client.close()
        return
    raise SystemExit(f"no empty Redis database among {DATABASE_NUMBERS.start}-{DATABASE_NUMBERS.stop - 1} on {host}:{port}")


def start_watch(settings, folder: Path) -> tuple[subprocess.Popen, Path]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    environment.update(settings_environment(settings))
    environment["PYTHONUNBUFFERED"] = "1"
    log_path = folder / "watch.log"
    command = [str(Path(sys.executable).parent / "helpdesk"), "watch", "--idle-renew-seconds", str(IDLE_RENEW_SECONDS)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while "IDLE watcher connected" not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"helpdesk watch did not connect:\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.1)
    return process, log_path


def stop_watch(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def measure(account, settings, count: int, rate: float) -> list[float]:
    """Append `count` mails at `rate` per second; return the APPEND-to-stored latency of each in seconds."""
    rng = random.Random(2)
    appended_at: dict[str, float] = {}
    stored_at: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_database, args=(settings, stored_at, stop), daemon=True)
    watcher.start()

    # The first ingest of a new process fills the ingest steps' caches and
    # took about 3.5 s in the runs in docs/benchmarks.md. A long-running
    # watcher pays that once per start, so one untimed mail goes first.
    warm_up_id = f"bench-{WARM_UP_NUMBER}@example.net"
    warm_up_started = time.perf_counter()
    account.append(generated_mail(WARM_UP_NUMBER, rng))
    while warm_up_id not in stored_at and time.perf_counter() - warm_up_started < START_TIMEOUT_SECONDS:
        time.sleep(0.05)
    print(f"first mail after the start: stored after {time.perf_counter() - warm_up_started:.2f} s")

    append_at_rate(account, count, rate, rng, appended_at)

    deadline = time.perf_counter() + 120.0
    while not appended_at.keys() <= stored_at.keys() and time.perf_counter() < deadline:
        time.sleep(0.1)
    stop.set()
    watcher.join()
    missing = set(appended_at) - set(stored_at)
    if missing:
        raise SystemExit(f"{len(missing)} of {count} messages were not stored within the deadline")
    return [stored_at[message_id] - appended_at[message_id] for message_id in appended_at]


def run(arguments, redis_url: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    root.chmod(0o755)
    (root / "dovecot").mkdir()
    (root / "dovecot").chmod(0o755)
    server = DovecotServer(root / "dovecot")
    server.start()
    process = None
    try:
        account = server.add_user()
        settings = bench_settings(root / "var", arguments.database_url, 100).with_overrides(
            mailbox_urls=(account.imap_url,), broker_url=redis_url
        )
        process, log_path = start_watch(settings, root)
        latencies = measure(account, settings, arguments.messages, arguments.rate)
    finally:
        exit_code = stop_watch(process) if process is not None else None
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    print("path: helpdesk watch process, poll lock in Redis, no beat")
    print_latency(latencies, arguments.rate, IDLE_RENEW_SECONDS)
    print(f"helpdesk watch exit code after SIGTERM: {exit_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200, help="Number of generated messages (default 200).")
    parser.add_argument("--rate", type=float, default=5.0, help="Messages appended per second (default 5).")
    parser.add_argument("--database-url", default="", help="Database URL (default: a new SQLite file).")
    parser.add_argument("--redis-url", default="", help="Redis URL for the poll lock (default: a claimed empty database).")
    arguments = parser.parse_args()

    if arguments.redis_url:
        run(arguments, arguments.redis_url)
        return
    with claimed_redis_url() as redis_url:
        run(arguments, redis_url)


if __name__ == "__main__":
    main()
