"""Summarise a benchmark run: figures per system (median and spread over repeats), ratios, targets; table and JSON."""

import json
import math
import time
from collections import Counter
from pathlib import Path
from statistics import median

MB = 2**20

# Targets on a 2-core machine (issue 6).
OVERHEAD_P50_TARGET_MS = 10
THROUGHPUT_RATIO_TARGET = 0.70
RSS_TARGET_MB = 400
# The worker started with no flags against the Procfile's (issue 15).
PLAIN_WORKER_RATIO_TARGET = 0.95


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def figure_definitions(config: dict) -> list[tuple[str, str, str, callable]]:
    """(key, label, phase, value of one phase result)."""
    definitions = [
        (
            "overhead_p50_ms",
            "overhead p50, concurrency 1 (ms)",
            "overhead",
            lambda r: percentile(r["overheads_ms"], 0.5),
        ),
        (
            "overhead_p95_ms",
            "overhead p95, concurrency 1 (ms)",
            "overhead",
            lambda r: percentile(r["overheads_ms"], 0.95),
        ),
    ]
    for size in config["batch_sizes"]:
        definitions.append(
            (
                f"throughput_{size}",
                f"throughput, {size} runs, {config['latency_ms']:g} ms, {config['concurrency']} in flight (runs/s)",
                f"batch_{size}",
                lambda r: r["throughput"],
            )
        )
    for size in config["batch_sizes"]:
        definitions.append(
            (
                f"cpu_ms_per_run_{size}",
                f"CPU per run, {size} runs (ms; worker or loop process)",
                f"batch_{size}",
                lambda r: 1000 * r["cpu_s"] / r["runs"],
            )
        )
    definitions.append(
        (
            "peak_rss_mb",
            f"peak RSS, {config['rss_in_flight']} in flight (MB)",
            "memory",
            lambda r: r["peak_rss_bytes"] / MB,
        )
    )
    return definitions


def _spread(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"median": median(values), "min": min(values), "max": max(values), "values": values}


def summarise(raw: dict) -> dict:
    config = raw["config"]
    systems = config["systems"]
    figures = {}
    measured = raw["repeats"][0].keys() if raw["repeats"] else ()
    for key, label, phase, value in figure_definitions(config):
        if phase not in measured:
            continue
        figure = {"label": label, "systems": {}}
        for system in systems:
            results = [repeat[phase][system] for repeat in raw["repeats"]]
            figure["systems"][system] = _spread([value(result) for result in results if "error" not in result])
        figure["ratios"] = {}
        for product_system in products(systems):
            product = figure["systems"][product_system]
            for baseline in baselines(systems):
                other = figure["systems"][baseline]
                if product and other and other["median"] > 0:
                    figure["ratios"][f"{product_system}/{baseline}"] = product["median"] / other["median"]
        for variant in variants(systems):
            product, other = figure["systems"][variant], figure["systems"]["product"]
            if product and other and other["median"] > 0:
                figure["ratios"][f"{variant}/product"] = product["median"] / other["median"]
        figures[key] = figure
    summary = {"figures": figures, "targets": targets(figures, config), "completion": completion(raw)}
    if "product" in systems:
        summary["product_details"] = product_details(raw)
    for variant in products(systems):
        if variant != "product":
            summary[f"{variant}_details"] = product_details(raw, variant)
    summary["in_flight"] = {
        phase: {system: [r[phase][system].get("max_in_flight") for r in raw["repeats"]] for system in systems}
        for phase in raw["repeats"][0]
        if phase != "overhead"
    }
    return summary


def products(systems) -> list[str]:
    """The product as it is ("product") and its variants ("product+EXPERIMENT", "product@plain")."""
    return [system for system in systems if system == "product" or system.startswith(("product+", "product@"))]


def variants(systems) -> list[str]:
    """Product variants measured against "product" itself (when it is measured too)."""
    return [system for system in products(systems) if system != "product"] if "product" in systems else []


def baselines(systems) -> list[str]:
    return [system for system in systems if system not in products(systems)]


def targets(figures: dict, config: dict) -> list[dict]:
    found = []
    for system in products(config["systems"]):
        found += _targets(figures, config, system)
    return found


def _targets(figures: dict, config: dict, system: str) -> list[dict]:
    def target(figure: str, value: float | None, wanted: str, met) -> dict | None:
        if figure not in figures:
            return None
        met = value is not None and met(value)
        return {"system": system, "figure": figure, "value": value, "target": wanted, "met": met}

    def product(figure: str) -> float | None:
        spread = figures[figure]["systems"][system] if figure in figures else None
        return spread["median"] if spread else None

    found = [
        target(
            "overhead_p50_ms",
            product("overhead_p50_ms"),
            f"<= {OVERHEAD_P50_TARGET_MS} ms",
            lambda v: v <= OVERHEAD_P50_TARGET_MS,
        )
    ]
    if "litellm" in config["systems"]:
        for size in config["batch_sizes"]:
            ratio = figures.get(f"throughput_{size}", {}).get("ratios", {}).get(f"{system}/litellm")
            found.append(
                target(
                    f"throughput_{size}",
                    ratio,
                    f">= {THROUGHPUT_RATIO_TARGET:.0%} of litellm",
                    lambda v: v >= THROUGHPUT_RATIO_TARGET,
                )
            )
    found.append(target("peak_rss_mb", product("peak_rss_mb"), f"<= {RSS_TARGET_MB} MB", lambda v: v <= RSS_TARGET_MB))
    if system == "product@plain" and "product" in config["systems"]:
        for size in config["batch_sizes"]:
            ratio = figures.get(f"throughput_{size}", {}).get("ratios", {}).get(f"{system}/product")
            found.append(
                target(
                    f"throughput_{size}",
                    ratio,
                    f">= {PLAIN_WORKER_RATIO_TARGET:.0%} of product (the Procfile's worker)",
                    lambda v: v >= PLAIN_WORKER_RATIO_TARGET,
                )
            )
    return [found_target for found_target in found if found_target is not None]


def completion(raw: dict) -> dict:
    """Per system: runs asked for and runs that succeeded, over every phase and repeat."""
    asked, succeeded, errors = Counter(), Counter(), Counter()
    for repeat in raw["repeats"]:
        for results in repeat.values():
            for system, result in results.items():
                asked[system] += result["runs"]
                succeeded[system] += result["succeeded"]
                for error in result.get("errors", []):
                    errors[f"{system}:{error}"] += 1
    return {"runs": dict(asked), "succeeded": dict(succeeded), "error_types": dict(errors)}


def product_details(raw: dict, system: str = "product") -> dict:
    repeats = raw["repeats"]
    breakdowns = [r["overhead"][system].get("breakdown_ms") for r in repeats if "overhead" in r]
    details = {"overhead_breakdown_ms": breakdowns}
    for phase in repeats[0]:
        if phase.startswith("batch_") or phase == "memory":
            details[f"{phase}_enqueue_per_s"] = [round(r[phase][system].get("enqueue_per_s", 0)) for r in repeats]
    for phase in repeats[0]:
        stages = [r[phase][system].get("stages") for r in repeats]
        if any(stages):
            details[f"{phase}_stages"] = stages
    failures = [
        f"repeat {index + 1} {phase}: {result['error']}"
        for index, repeat in enumerate(repeats)
        for phase, results in repeat.items()
        for name, result in results.items()
        if "error" in result and name == system
    ]
    if failures:
        details["failures"] = failures
    return details


def _cell(spread: dict | None) -> str:
    if spread is None:
        return "failed"
    if spread["min"] == spread["max"]:
        return _number(spread["median"])
    return f"{_number(spread['median'])} ({_number(spread['min'])}-{_number(spread['max'])})"


def _number(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


def table(raw: dict, summary: dict) -> str:
    systems = raw["config"]["systems"]
    ratios = [f"{product}/{baseline}" for product in products(systems) for baseline in baselines(systems)]
    ratios += [f"{variant}/product" for variant in variants(systems)]
    header = ["figure", *systems, *ratios]
    rows = []
    for figure in summary["figures"].values():
        row = [figure["label"], *(_cell(figure["systems"][s]) for s in systems)]
        row += [f"{figure['ratios'][ratio]:.2f}x" if ratio in figure["ratios"] else "-" for ratio in ratios]
        rows.append(row)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    repeats = len(raw["repeats"])
    machine = raw["machine"]
    lines.append(
        f"\nmedian (min-max) over {repeats} repeat(s); machine: {machine['cpus']} CPUs, "
        f"load average {machine['loadavg_before'][0]} before, {machine['loadavg_after'][0]} after"
    )
    for target in summary["targets"]:
        if target["value"] is None:
            value = "not measured"
        elif target["figure"].startswith("throughput"):
            value = f"{target['value']:.0%}"
        else:
            value = _number(target["value"])
        verdict = "met" if target["met"] else "MISSED"
        lines.append(f"target {target['system']} {target['figure']}: {value}, target {target['target']}: {verdict}")
    for system in products(systems):
        for key, value in summary.get(f"{system}_details" if system != "product" else "product_details", {}).items():
            lines.append(f"{system} {key}: {value}")
    lines.append(f"max in flight at the provider: {summary['in_flight']}")
    done = summary["completion"]
    lines.append(
        f"runs succeeded: {done['succeeded']} of {done['runs']}"
        + (f", errors {done['error_types']}" if done["error_types"] else "")
    )
    return "\n".join(lines)


def save(raw: dict, summary: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps({**raw, "summary": summary}, indent=1, default=str))
    return path


def profile_summary(path: Path, *, top: int = 25) -> dict:
    """Aggregate a py-spy raw (collapsed stacks) file: the functions with the most samples, self and inclusive."""
    self_samples, inclusive, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        self_samples[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    share = lambda n: round(100 * n / total, 1) if total else 0  # noqa: E731
    return {
        "samples": total,
        "self_percent": [(frame, share(n)) for frame, n in self_samples.most_common(top)],
        "inclusive_percent": [(frame, share(n)) for frame, n in inclusive.most_common(top * 2)],
    }


def main() -> None:
    """python -m bench.report FILE.json: the table again, also from a partial file of an interrupted run."""
    import sys

    raw = json.loads(Path(sys.argv[1]).read_text())
    raw.pop("summary", None)
    print(table(raw, summarise(raw)))


if __name__ == "__main__":
    main()
