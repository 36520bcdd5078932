"""Subprocesses of the benchmark: start and stop them, and sample the memory of a process tree."""

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

RSS_SAMPLE_INTERVAL = 0.05  # seconds


def _vm_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    children = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return children
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                children.extend(int(child) for child in listing.read().split())
        except FileNotFoundError:
            continue
    return children


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])  # utime and stime (fields 14 and 15 of proc(5))


def tree_cpu_seconds(*pids: int) -> float:
    """User + system CPU time consumed so far by processes and their live descendants."""
    total, pending = 0, list(pids)
    while pending:
        current = pending.pop()
        total += _cpu_ticks(current)
        pending.extend(_children(current))
    return total / CLOCK_TICKS


def tree_rss_bytes(*pids: int) -> int:
    """VmRSS of processes and all their descendants (a prefork worker's children count too)."""
    total, pending = 0, list(pids)
    while pending:
        current = pending.pop()
        total += _vm_rss_kb(current) * 1024
        pending.extend(_children(current))
    return total


class RssSampler:
    """Samples process trees' summed RSS every 50 ms on a thread, from start() to stop(); keeps the peak."""

    def __init__(self, *pids: int, interval: float = RSS_SAMPLE_INTERVAL) -> None:
        self.pids, self.interval = pids, interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pids[0]}", daemon=True)

    def _run(self) -> None:
        while True:
            rss = tree_rss_bytes(*self.pids)
            self.peak = max(self.peak, rss)
            self.samples += 1
            if self._stop.wait(self.interval):
                return

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def stop_process(process: subprocess.Popen, *, grace: float = 15) -> None:
    """SIGTERM (a Celery worker's warm shutdown), then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Provider:
    """The local OpenAI-compatible server (bench.provider) in its own process."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def __enter__(self) -> "Provider":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.provider", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            stop_process(self.process)
            raise RuntimeError(f"the bench provider did not start: {line!r}")
        self.port = int(line.split()[-1])
        return self

    def __exit__(self, *exc_info) -> None:
        stop_process(self.process, grace=5)

    def api_base(self, latency_ms: float) -> str:
        return f"http://127.0.0.1:{self.port}/latency/{latency_ms:g}"

    def _stats(self, method: str) -> dict:
        import httpx

        response = httpx.request(method, f"http://127.0.0.1:{self.port}/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def reset_stats(self) -> None:
        self._stats("POST")

    def stats(self) -> dict:
        return self._stats("GET")


class BaselineProcess:
    """`python -m bench.baselines SYSTEM`: one spec per line in, one JSON result per line out."""

    def __init__(self, system: str, *, env: dict | None = None, startup_timeout: float = 120) -> None:
        self.system, self.env, self.startup_timeout = system, env, startup_timeout
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "BaselineProcess":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.baselines", self.system],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        self._read(self.startup_timeout)
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("{"):
            self.process.kill()
            raise RuntimeError(f"bench.baselines {self.system} failed or timed out (see its stderr above): {line!r}")
        return json.loads(line)

    def run(self, spec: dict, *, timeout: float) -> dict:
        """The result of one spec, with the process's peak RSS and the CPU time it used meanwhile."""
        sampler = RssSampler(self.process.pid).start()
        cpu_before = tree_cpu_seconds(self.process.pid)
        try:
            self.process.stdin.write(json.dumps(spec) + "\n")
            self.process.stdin.flush()
            result = self._read(timeout)
        finally:
            result_peak = sampler.stop()
        result["cpu_s"] = tree_cpu_seconds(self.process.pid) - cpu_before
        result["peak_rss_bytes"] = result_peak
        return result


def wait_until(predicate, *, timeout: float, interval: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
