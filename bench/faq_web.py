"""Measure how fast the public FAQ serves an article page, against two baselines.

Three servers run one after the other on free loopback ports, each loaded by
wrk (Debian's package) with the same bounded run:

1. the helpdesk app (admin.app.create_app) under gunicorn, serving
   /faq/nl/<slug> with every middleware of a real deployment;
2. a minimal Flask view returning the same bytes, under the same gunicorn
   settings (2 sync workers, bound to 127.0.0.1);
3. nginx serving the static export (`helpdesk faq export --format html`),
   started as our own process with a private configuration.

The database is a fresh SQLite file with the articles of kb/content imported.
Usage:

    .venv/bin/python bench/faq_web.py [--slug condoom-gescheurd] [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
GUNICORN_WORKERS = 2
WARM_UP_SECONDS = 2


def full_app():
    """Return the helpdesk web app for gunicorn; settings come from HELPDESK_* variables."""
    from admin.app import create_app

    return create_app()


def minimal_app():
    """Return a Flask app with one view that returns the bytes in BENCH_PAGE_FILE."""
    from flask import Flask, Response

    body = Path(os.environ["BENCH_PAGE_FILE"]).read_bytes()
    app = Flask("minimal")

    @app.route("/faq/nl/<slug>")
    def page(slug: str):
        return Response(body, mimetype="text/html")

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not respond within {timeout:.0f} s: see the server log in the work folder")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Measurement:
    name: str
    requests_per_second: float
    p99_ms: float
    errors: str


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(name: str, url: str, seconds: int, connections: int) -> Measurement:
    """Warm up, then run one bounded wrk measurement and parse its summary."""
    subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{WARM_UP_SECONDS}s", url], check=True, capture_output=True)
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url], check=True, capture_output=True, text=True
    )
    output = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", output)
    return Measurement(name, rate, float(value) * _UNITS[unit], errors.group(0) if errors else "")


def prepare(workdir: Path, slug: str) -> tuple[dict, Path, Path]:
    """Create the database, import the articles and export the static copy; return (env, page file, export dir)."""
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(workdir / "var"),
        "HELPDESK_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "HELPDESK_SECRET_KEY": "benchmark-secret-key",
        "HELPDESK_FROM_ADDRESS": "vragen@helpdesk.test",
        "HELPDESK_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    os.environ.update({key: value for key, value in env.items() if key.startswith("HELPDESK_")})

    from admin.app import create_app
    from helpdesk import schema
    from helpdesk.config import load_settings
    from helpdesk.db import session_scope
    from kb.faq_export import export_html
    from kb.transfer import CONTENT_DIR, import_directory

    settings = load_settings()
    schema.upgrade(settings)
    export_dir = workdir / "export"
    with session_scope(settings) as session:
        import_directory(session, CONTENT_DIR)
    with session_scope(settings) as session:
        export_html(session, settings, export_dir)

    response = create_app(settings).test_client().get(f"/faq/nl/{slug}")
    if response.status_code != 200:
        raise SystemExit(f"/faq/nl/{slug} returned status {response.status_code}: choose a published Dutch slug with --slug.")
    page_file = workdir / "page.html"
    page_file.write_bytes(response.get_data())
    return env, page_file, export_dir


def gunicorn(app_spec: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(GUNICORN_WORKERS),
        "--bind", f"127.0.0.1:{port}",
        "--chdir", str(REPOSITORY),
        "--pythonpath", str(REPOSITORY / "bench"),
        "--log-level", "warning",
        app_spec,
    ]
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def nginx(export_dir: Path, port: int, workdir: Path) -> subprocess.Popen:
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = workdir / "nginx"
    for name in ("logs", "temp"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(
        f"""
daemon off;
worker_processes {GUNICORN_WORKERS};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    include /etc/nginx/mime.types;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {export_dir};
    }}
}}
"""
    )
    # nginx workers drop root privileges, so the export must be world-readable.
    for path in [workdir, *workdir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return subprocess.Popen([nginx_binary, "-p", str(prefix), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slug", default="condoom-gescheurd", help="published Dutch article to request")
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run, in seconds")
    parser.add_argument("--connections", type=int, default=16, help="open connections of wrk")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="faq-bench-"))
    processes: list[tuple[subprocess.Popen, int]] = []
    try:
        env, page_file, export_dir = prepare(workdir, arguments.slug)
        env["BENCH_PAGE_FILE"] = str(page_file)
        measurements = []
        servers = [
            ("helpdesk app (gunicorn)", "gunicorn", "faq_web:full_app()", f"/faq/nl/{arguments.slug}"),
            ("minimal Flask view (gunicorn)", "gunicorn", "faq_web:minimal_app()", f"/faq/nl/{arguments.slug}"),
            ("static export (nginx)", "nginx", None, f"/nl/{arguments.slug}.html"),
        ]
        for name, kind, app_spec, path in servers:
            port = free_port()
            if kind == "gunicorn":
                process = gunicorn(app_spec, port, env, workdir / f"{port}.log")
                stop_signal = signal.SIGTERM
            else:
                process = nginx(export_dir, port, workdir)
                stop_signal = signal.SIGQUIT  # graceful shutdown of nginx
            processes.append((process, stop_signal))
            url = f"http://127.0.0.1:{port}{path}"
            wait_until_serving(url, process)
            measurements.append(run_wrk(name, url, arguments.seconds, arguments.connections))
            stop(process, stop_signal)

        print(f"page: /faq/nl/{arguments.slug} ({page_file.stat().st_size} bytes); wrk -t2 -c{arguments.connections} -d{arguments.seconds}s")
        print("| server | requests/s | p99 latency | share of minimal view |")
        print("| --- | --- | --- | --- |")
        baseline = measurements[1].requests_per_second
        for measurement in measurements:
            share = measurement.requests_per_second / baseline
            note = f" ({measurement.errors})" if measurement.errors else ""
            print(f"| {measurement.name} | {measurement.requests_per_second:.0f} | {measurement.p99_ms:.1f} ms | {share:.0%}{note} |")
    finally:
        for process, stop_signal in processes:
            stop(process, stop_signal)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
