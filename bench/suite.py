"""One benchmark run: every phase for every system, on the same machine, against the same local provider.

Phases (each repeated `repeats` times, systems interleaved within a repeat so that load drifts hit all three):
- overhead: one request at a time; per run created → stored (product) or request time (baselines), minus latency;
- batch_<N>: N runs at `concurrency` in flight; runs/s;
- memory: `rss_in_flight` in flight with a long latency; peak RSS of the process (tree).
"""

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.processes import BaselineProcess, Provider
from bench.product import MESSAGES, MODEL_NAME, PARAMETERS, Product

SYSTEMS = ("httpx", "litellm", "product")
PHASES = ("overhead", "batch", "memory")


@dataclass
class Config:
    latency_ms: float = 100
    concurrency: int = 100
    overhead_runs: int = 200
    overhead_latency_ms: float = 100
    batch_sizes: tuple[int, ...] = (1000, 5000)
    rss_in_flight: int = 200
    rss_latency_ms: float = 5000
    rss_runs: int = 600
    repeats: int = 1
    systems: tuple[str, ...] = SYSTEMS
    phases: tuple[str, ...] = PHASES
    profile: bool = False
    # Stage timestamps inside the worker (bench.tracing); a diagnostic, off for the figures.
    trace: bool = False
    # A change to the runners tried in the worker only (bench.experiments); "" measures the code as it is.
    experiment: str = ""
    # Celery worker processes sharing `concurrency` (1: the Procfile's single worker).
    worker_processes: int = 1
    # A new baseline process for every phase (memory measured from a fresh start, like each worker's);
    # False reuses one per system, which saves LiteLLM's import (seconds) in the smoke test.
    fresh_processes: bool = True
    label: str = "bench"
    extra: dict = field(default_factory=dict)


class Baselines:
    """The baseline processes: a fresh one per phase, or one per system kept for the whole run."""

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.kept: dict[str, BaselineProcess] = {}
        self.env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")

    def run(self, system: str, spec: dict, *, timeout: float) -> dict:
        if self.fresh:
            with BaselineProcess(system, env=self.env) as process:
                return process.run(spec, timeout=timeout)
        if system not in self.kept:
            self.kept[system] = BaselineProcess(system, env=self.env).__enter__()
        return self.kept[system].run(spec, timeout=timeout)

    def __enter__(self) -> "Baselines":
        return self

    def __exit__(self, *exc_info) -> None:
        for process in self.kept.values():
            process.__exit__(*exc_info)


def _baseline(
    system: str, provider: Provider, baselines: Baselines, *, mode: str, runs: int, concurrency: int, latency_ms: float
) -> dict:
    from bench.product import API_KEY_HEADER, API_KEY_VALUE

    spec = {
        "mode": mode,
        "runs": runs,
        "concurrency": concurrency,
        "api_base": provider.api_base(latency_ms),
        "model": MODEL_NAME,
        "messages": MESSAGES,
        "parameters": PARAMETERS,
        "headers": {API_KEY_HEADER: API_KEY_VALUE},
    }
    timeout = 300 + 20 * runs * latency_ms / 1000 / concurrency
    provider.reset_stats()
    result = baselines.run(system, spec, timeout=timeout)
    result["max_in_flight"] = provider.stats()["max_in_flight"]
    return result


def overhead(system: str, provider: Provider, baselines: Baselines, product: Product | None, config: Config) -> dict:
    latency_ms = config.overhead_latency_ms
    if product is not None:
        return product.sequential(
            runs=config.overhead_runs, latency_ms=latency_ms, concurrency=config.concurrency, profile=config.profile
        )
    result = _baseline(
        system, provider, baselines, mode="sequential", runs=config.overhead_runs, concurrency=1, latency_ms=latency_ms
    )
    durations = result.pop("durations")
    result["overheads_ms"] = [(duration - latency_ms / 1000) * 1000 for duration in durations]
    result["runs"] = config.overhead_runs
    result["succeeded"] = result["completed"]
    return result


def batch(
    system: str,
    provider,
    baselines,
    product,
    *,
    runs: int,
    concurrency: int,
    latency_ms: float,
    profile: bool,
    phase: str,
):
    if product is not None:
        return product.batch(runs=runs, latency_ms=latency_ms, concurrency=concurrency, profile=profile, phase=phase)
    result = _baseline(
        system, provider, baselines, mode="batch", runs=runs, concurrency=concurrency, latency_ms=latency_ms
    )
    result["runs"] = runs
    result["succeeded"] = result["completed"]
    result["throughput"] = result["completed"] / result["elapsed"]
    return result


def is_product(system: str) -> bool:
    """ "product" (the Procfile's worker), "product+EXPERIMENT", "product@plain" (`celery -A integrations_site worker`
    with no flags)."""
    return system == "product" or system.startswith(("product+", "product@"))


def phases(config: Config) -> list[tuple[str, dict]]:
    listed = [("overhead", {})] if "overhead" in config.phases else []
    for size in config.batch_sizes if "batch" in config.phases else ():
        listed.append(
            (f"batch_{size}", {"runs": size, "concurrency": config.concurrency, "latency_ms": config.latency_ms})
        )
    if "memory" in config.phases:
        memory = {"runs": config.rss_runs, "concurrency": config.rss_in_flight, "latency_ms": config.rss_latency_ms}
        listed.append(("memory", memory))
    return listed


def run_suite(config: Config, *, log_dir: Path, progress=print, on_repeat=None) -> dict:
    """Every phase, system and repeat; returns the raw results (bench.report summarises them)."""
    started = time.time()
    load_before = os.getloadavg()
    repeats = []
    with Provider() as provider:
        # "product" is the code as it is; "product+NAME" the same with bench.experiments' NAME in the worker.
        products = {
            system: Product(
                provider=provider,
                log_dir=log_dir,
                label=config.label,
                trace=config.trace,
                experiment=system.partition("+")[2] or config.experiment,
                worker_processes=config.worker_processes,
                worker_command=system.partition("@")[2] or "procfile",
            )
            for system in config.systems
            if is_product(system)
        }
        with contextlib.ExitStack() as stack, Baselines(fresh=config.fresh_processes) as baselines:
            for product in products.values():
                stack.enter_context(product)
            for repeat in range(config.repeats):
                results: dict[str, dict] = {}
                for phase, arguments in phases(config):
                    results[phase] = {}
                    for system in config.systems:
                        phase_started = time.perf_counter()
                        try:
                            product = products.get(system)
                            result = run_phase(phase, arguments, system, provider, baselines, product, config)
                        except Exception as exc:
                            # One failed measurement is reported as such; the others still run.
                            runs = arguments.get("runs", config.overhead_runs)
                            result = {"error": f"{type(exc).__name__}: {exc}", "runs": runs, "succeeded": 0}
                        results[phase][system] = result
                        progress(
                            f"repeat {repeat + 1}/{config.repeats} {phase:>11} {system:>8}: "
                            f"{_headline(phase, result)} ({time.perf_counter() - phase_started:.1f} s)"
                        )
                repeats.append(results)
                if on_repeat is not None:
                    on_repeat(_raw(started, load_before, config, repeats))
    return _raw(started, load_before, config, repeats)


def _raw(started: float, load_before, config: Config, repeats: list) -> dict:
    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "config": asdict(config),
        "machine": machine(load_before),
        "source": source_state(),
        "repeats": repeats,
    }


def run_phase(phase, arguments, system, provider, baselines, product, config) -> dict:
    if phase == "overhead":
        return overhead(system, provider, baselines, product, config)
    # Profile the product where the worker is busiest: the largest batch.
    profile = config.profile and phase == f"batch_{max(config.batch_sizes)}"
    return batch(system, provider, baselines, product, profile=profile, phase=phase, **arguments)


def _headline(phase: str, result: dict) -> str:
    if "error" in result:
        return f"FAILED {result['error'][:500]}"
    if phase == "overhead":
        values = sorted(result["overheads_ms"])
        return f"overhead p50 {values[len(values) // 2]:.2f} ms, {result['succeeded']}/{result['runs']} ok"
    rss = result["peak_rss_bytes"] / 2**20
    return (
        f"{result['throughput']:.0f} runs/s, peak RSS {rss:.0f} MB, {result['max_in_flight']} in flight, "
        f"{result['succeeded']}/{result['runs']} ok{' (stalled: runs lost)' if result.get('stalled') else ''}"
    )


def source_state() -> dict:
    """Which code was measured: the worker runs the working tree, uncommitted changes included."""
    import subprocess

    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = git("status", "--porcelain", "--", "runners", "integrations", "integrations_site", "organizations")
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": changed.splitlines()}


def machine(load_before) -> dict:
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_before": [round(value, 2) for value in load_before],
        "loadavg_after": [round(value, 2) for value in os.getloadavg()],
    }
