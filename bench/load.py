"""Load for the side-by-side benchmark: ``wrk`` against one server with one request body
(or, for writes, a body whose idempotency key changes per request), and the server's peak
resident set size while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from bench.report import Run

WRK_SCRIPTS = Path(__file__).resolve().parent / "wrk"


class RssSampler:
    """The largest resident set size of a process while the block runs (sampled every 0.1 s)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(output: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else float("nan")


async def wrk(
    pid: int,
    url: str,
    body: dict[str, Any],
    token: str,
    *,
    duration: int,
    connections: int,
    key_placeholder: str | None = None,
) -> Run:
    """``wrk -t2`` POSTing ``body`` to ``url`` for ``duration`` seconds, sampling the RSS of the
    server process ``pid``. With ``key_placeholder`` each request replaces it in the body with a
    key of its own (bench/wrk/create.lua)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(body, handle)
    script = "post.lua"
    env = {**os.environ, "BENCH_BODY_FILE": handle.name, "BENCH_TOKEN": token}
    if key_placeholder is not None:
        script = "create.lua"
        env |= {"BENCH_KEY_PLACEHOLDER": key_placeholder, "BENCH_NONCE": uuid.uuid4().hex}
    try:
        with RssSampler(pid) as rss:
            process = await asyncio.create_subprocess_exec(
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                # A slow answer is a slow answer, not a socket error (wrk's default is 2 s).
                "--timeout",
                "60s",
                "-s",
                str(WRK_SCRIPTS / script),
                url,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output = (await process.communicate())[0].decode()
    finally:
        os.unlink(handle.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        int(socket_errors.group(1)) if socket_errors else 0
    )
    completed = re.search(r"(\d+) requests in", output)
    answered = completed is not None and int(completed.group(1)) > 0
    return Run(
        rps=float(rps.group(1)) if rps else 0.0,
        # Without a single answer in the run wrk prints zeros: no latency was measured.
        p50_ms=_latency(output, "50") if answered else float("nan"),
        p99_ms=_latency(output, "99") if answered else float("nan"),
        errors=errors,
        rss_mb=rss.peak_kb / 1024,
    )
