"""Sustained load: mail arrives over IMAP at a steady rate while a Celery worker and beat ingest it.

The set-up is the production one on a single machine. It has a private
Dovecot (tests/services/dovecot.py), a private Redis as broker and a new
database on the PostgreSQL server at 127.0.0.1:5432. One `celery -A
workers.app worker` runs `--concurrency` pool processes, and one `celery -A
workers.app beat` queues `workers.tasks.poll_mailboxes` every
`--poll-interval` seconds.
Each mail is a client question with its own sender and Message-ID
(tests.services.mailflow.question), so every mail must become one ticket.

One IMAP connection appends the mails at `--rate` per second. The time of
arrival is when the server confirmed the APPEND, and its UID comes from the
APPENDUID response. Every `--sample-interval` seconds the script reads the
new ingest records (UID, outcome) from the database, so a ticket counts
from the first sample in which its transaction is committed. Arrival to
ticket is therefore rounded up by at most one sample interval.

Reported: throughput (mails from the first APPEND to the last ticket seen),
p50, p95 and maximum arrival-to-ticket time, peak RSS (VmHWM from /proc) of
the worker's main process, each pool process and beat, the outcomes of the
ingest records, ERROR lines in the worker and beat logs, and the checks that
there are as many tickets and inbound messages as mails and no Message-ID
stored twice.

Usage:
    .venv/bin/python bench/load.py [--messages 20000] [--rate 20] [--concurrency 2]
        [--poll-interval 5] [--batch-size 100]

Needs Debian's dovecot-imapd and redis-server, and PostgreSQL on
127.0.0.1:5432 with user postgres and trust authentication.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from sqlalchemy import func, select  # noqa: E402

from helpdesk import schema  # noqa: E402
from helpdesk.config import Settings, load_settings  # noqa: E402
from helpdesk.db import get_engine, session_scope  # noqa: E402
from helpdesk.ingest.models import IngestRecord, MailboxState  # noqa: E402
from tests.conftest import _create_postgres_database, _drop_postgres_database  # noqa: E402
from tests.services.dovecot import DovecotServer, ImapAccount, _appended_uid  # noqa: E402
from tests.services.mailflow import counts, duplicated_message_ids, question  # noqa: E402
from tests.services.restartable import PrivateRedis  # noqa: E402
from tests.services.worker import WorkerProcess, settings_environment, start_worker  # noqa: E402

# Time that the worker may take for the mails still queued after the last APPEND.
DRAIN_TIMEOUT_SECONDS = 900.0
BEAT_STOP_TIMEOUT_SECONDS = 30.0
ERROR_LINE = re.compile(r" (ERROR|CRITICAL) ")


@dataclass
class Arrivals:
    """APPEND confirmation times by UID, filled by the appending thread."""

    times: dict[int, float] = field(default_factory=dict)
    first: float | None = None
    last: float | None = None
    missing_uids: int = 0
    error: BaseException | None = None


@dataclass
class Observations:
    """The sampling loop's record: first sight of each UID's ingest record, peak RSS and load."""

    seen: dict[int, float] = field(default_factory=dict)
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    load_averages: list[float] = field(default_factory=list)
    last_record_id: int = 0


def append_steadily(account: ImapAccount, count: int, rate: float, arrivals: Arrivals) -> None:
    """Append `count` questions, the i-th at start + i / rate seconds, and record each UID's arrival."""
    try:
        with account.connect() as client:
            started = time.monotonic()
            for index in range(count):
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                response = client.append("INBOX", question(index))
                arrived = time.time()
                uid = _appended_uid(response)
                if uid is None:
                    arrivals.missing_uids += 1
                    continue
                arrivals.times[uid] = arrived
                arrivals.first = arrivals.first or arrived
                arrivals.last = arrived
    except BaseException as error:  # noqa: BLE001 - reported by the main thread
        arrivals.error = error


def start_beat(settings: Settings, folder: Path) -> tuple[subprocess.Popen, Path]:
    """Start `celery -A workers.app beat` with the environment that rebuilds `settings`."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    environment.update(settings_environment(settings))
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "beat.log"
    command = [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--loglevel=INFO"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path


def stop_beat(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=BEAT_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def child_pids(parent: int) -> list[int]:
    """Return the pids whose parent is `parent`, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in brackets may contain spaces, so fields count from the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return sorted(children)


def peak_rss_kib(pid: int) -> int | None:
    """Return the process's peak resident set size (VmHWM) in KiB, or None when it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def sample_processes(worker_pid: int, beat_pid: int, observations: Observations) -> None:
    processes = {f"worker main ({worker_pid})": worker_pid, f"beat ({beat_pid})": beat_pid}
    for child in child_pids(worker_pid):
        processes[f"worker pool process ({child})"] = child
    for name, pid in processes.items():
        peak = peak_rss_kib(pid)
        if peak is not None:
            observations.peak_rss_kib[name] = max(peak, observations.peak_rss_kib.get(name, 0))


def sample_records(settings: Settings, observations: Observations) -> None:
    """Note the sampling time for every ingest record committed since the previous sample."""
    now = time.time()
    with session_scope(settings) as session:
        rows = session.execute(
            select(IngestRecord.id, IngestRecord.uid)
            .where(IngestRecord.id > observations.last_record_id)
            .order_by(IngestRecord.id)
        ).all()
    for record_id, uid in rows:
        observations.last_record_id = record_id
        if uid is not None:
            observations.seen.setdefault(uid, now)


def observe(
    settings: Settings,
    worker: WorkerProcess,
    beat: subprocess.Popen,
    appender: threading.Thread,
    arrivals: Arrivals,
    count: int,
    sample_interval: float,
) -> Observations:
    """Sample records, memory and load until every mail has a record or the drain timeout passes."""
    observations = Observations()
    next_load_sample = 0.0
    drain_deadline = None
    while True:
        sample_records(settings, observations)
        sample_processes(worker.process.pid, beat.pid, observations)
        if time.monotonic() >= next_load_sample:
            observations.load_averages.append(os.getloadavg()[0])
            next_load_sample = time.monotonic() + 10.0

        if len(observations.seen) >= count:
            return observations
        if worker.process.poll() is not None or beat.poll() is not None:
            raise SystemExit(f"the worker or beat exited during the run. Worker log:\n{worker.log()[-4000:]}")
        if not appender.is_alive():
            if arrivals.error is not None:
                raise SystemExit(f"appending failed: {arrivals.error!r}")
            drain_deadline = drain_deadline or time.monotonic() + DRAIN_TIMEOUT_SECONDS
            if time.monotonic() > drain_deadline:
                return observations
        time.sleep(sample_interval)


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[rank - 1]


def outcome_counts(settings: Settings) -> dict[str, int]:
    with session_scope(settings) as session:
        return dict(session.execute(select(IngestRecord.status, func.count()).group_by(IngestRecord.status)).all())


def poll_failures(settings: Settings) -> list[tuple[str, int, str | None]]:
    with session_scope(settings) as session:
        states = session.scalars(select(MailboxState)).all()
        return [(state.mailbox, state.consecutive_failures, state.last_error) for state in states]


def error_lines(*logs: Path) -> int:
    return sum(len(ERROR_LINE.findall(log.read_text(errors="replace"))) for log in logs)


def report(arguments, settings: Settings, arrivals: Arrivals, observations: Observations, logs: list[Path]) -> None:
    latencies = [observations.seen[uid] - arrived for uid, arrived in arrivals.times.items() if uid in observations.seen]
    appended = len(arrivals.times)
    last_ticket = max(observations.seen.values(), default=arrivals.first or 0.0)
    elapsed = last_ticket - (arrivals.first or last_ticket)
    append_seconds = (arrivals.last or 0.0) - (arrivals.first or 0.0)
    stored = counts(settings)
    duplicates = duplicated_message_ids(settings)

    print(f"messages: {arguments.messages}, offered rate: {arguments.rate:g}/s, worker concurrency: "
          f"{arguments.concurrency}, poll interval: {arguments.poll_interval:g} s, batch size: {arguments.batch_size}")
    print(f"appended: {appended} in {append_seconds:.1f} s ({appended / max(append_seconds, 1e-9):.1f}/s), "
          f"without APPENDUID: {arrivals.missing_uids}")
    print(f"ingested (records seen): {len(observations.seen)} of {appended}")
    print(f"throughput: {len(observations.seen)} in {elapsed:.1f} s = {len(observations.seen) / max(elapsed, 1e-9):.1f} mails/s "
          "(first APPEND to last ticket seen)")
    if latencies:
        print(f"arrival to ticket: p50 {percentile(latencies, 0.5):.2f} s, p95 {percentile(latencies, 0.95):.2f} s, "
              f"max {max(latencies):.2f} s, mean {statistics.fmean(latencies):.2f} s "
              f"(sampled every {arguments.sample_interval:g} s)")
    print("peak RSS (VmHWM):")
    for name, kib in sorted(observations.peak_rss_kib.items()):
        print(f"  {name}: {kib / 1024:.1f} MiB")
    print(f"outcomes: {outcome_counts(settings)}")
    print(f"tickets: {stored['tickets']}, inbound messages: {stored['inbound']}, records: {stored['records']}, "
          f"quarantined: {stored['quarantined']}, Message-IDs stored twice: {len(duplicates)}")
    print(f"mailbox state (key, consecutive failures, last error): {poll_failures(settings)}")
    print(f"ERROR lines in worker and beat logs: {error_lines(*logs)}")
    loads = observations.load_averages
    if loads:
        print(f"load average (1 min) during the run: min {min(loads):.2f}, max {max(loads):.2f}, mean {statistics.fmean(loads):.2f}")

    complete = stored["tickets"] == arguments.messages == stored["inbound"] and not duplicates
    print("check: tickets == messages, one inbound message each, no duplicates:", "PASSED" if complete else "FAILED")
    if not complete:
        raise SystemExit(1)


def load_settings_for(root: Path, database_url: str, broker_url: str, mailbox_url: str, arguments) -> Settings:
    return load_settings(
        {
            "HELPDESK_DATA_DIR": str(root / "var"),
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_BROKER_URL": broker_url,
            "HELPDESK_MAILBOX_URL": mailbox_url,
            "HELPDESK_SECRET_KEY": "bench-secret",
            "HELPDESK_POLL_INTERVAL_SECONDS": str(arguments.poll_interval),
            "HELPDESK_IMAP_BATCH_SIZE": str(arguments.batch_size),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000, help="Number of mails to append (default 20000).")
    parser.add_argument("--rate", type=float, default=20.0, help="Mails appended per second (default 20).")
    parser.add_argument("--concurrency", type=int, default=2, help="Pool processes of the worker (default 2).")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="Seconds between polls that beat queues (default 5).")
    parser.add_argument("--batch-size", type=int, default=100, help="UIDs per IMAP FETCH and per transaction (default 100).")
    parser.add_argument(
        "--sample-interval", type=float, default=0.5, help="Seconds between reads of new ingest records (default 0.5)."
    )
    arguments = parser.parse_args()
    if arguments.messages < 1 or arguments.rate <= 0:
        parser.error("--messages must be at least 1 and --rate above 0")

    logging.disable(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="helpdesk-load-"))
    root.chmod(0o755)
    (root / "dovecot").mkdir()
    (root / "dovecot").chmod(0o755)
    dovecot = DovecotServer(root / "dovecot")
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("redis-server is not installed: apt-get install redis-server")
    redis_server = PrivateRedis(redis_binary, root / "redis")
    database_url = _create_postgres_database()
    worker = beat = None
    try:
        dovecot.start()
        redis_server.start()
        account = dovecot.add_user()
        settings = load_settings_for(root, database_url, redis_server.url(), account.imap_url, arguments)
        schema.upgrade(settings)

        worker = start_worker(settings, root / "worker", f"--concurrency={arguments.concurrency}")
        beat, beat_log = start_beat(settings, root / "beat")

        arrivals = Arrivals()
        appender = threading.Thread(
            target=append_steadily, args=(account, arguments.messages, arguments.rate, arrivals), daemon=True
        )
        appender.start()
        observations = observe(settings, worker, beat, appender, arrivals, arguments.messages, arguments.sample_interval)
        sample_processes(worker.process.pid, beat.pid, observations)
        stop_beat(beat)
        worker.stop()
        report(arguments, settings, arrivals, observations, [worker.log_path, beat_log])
    finally:
        if beat is not None:
            stop_beat(beat)
        if worker is not None:
            worker.stop()
        redis_server.stop()
        dovecot.stop()
        get_engine(database_url).dispose()
        _drop_postgres_database(database_url)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
