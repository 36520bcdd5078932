"""The two baselines, each in a process of its own (so that its memory is measured alone):
raw `httpx.AsyncClient` posts and a bare `litellm.acompletion` loop, sending the product's request.

    python -m bench.baselines litellm

imports its library, prints {"ready": true}, then reads one JSON spec per stdin line
({"mode": "sequential" | "batch", "runs", "concurrency", "api_base", "model", "messages", "parameters",
"headers"}) and answers one JSON line: per-request durations (sequential) or the batch's elapsed time.
"""

import asyncio
import json
import os
import sys
import time

# LiteLLM fetches its price list from the internet at import time otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

WARMUP_REQUESTS = 3


def _httpx_sender(spec: dict):
    import httpx

    limits = httpx.Limits(max_connections=max(spec["concurrency"], 1), max_keepalive_connections=spec["concurrency"])
    client = httpx.AsyncClient(limits=limits, timeout=60)
    url = spec["api_base"].rstrip("/") + "/chat/completions"
    body = {"model": spec["model"], "messages": spec["messages"], **spec["parameters"]}

    async def send() -> None:
        response = await client.post(url, json=body, headers=spec["headers"])
        response.raise_for_status()
        if not response.json()["choices"][0]["message"]["content"]:
            raise RuntimeError("empty completion")

    return send, client.aclose


def _litellm_sender(spec: dict):
    import litellm

    async def send() -> None:
        response = await litellm.acompletion(
            model=f"openai/{spec['model']}",
            api_base=spec["api_base"],
            api_key="x",
            messages=spec["messages"],
            **spec["parameters"],
        )
        if not response.choices[0].message.content:
            raise RuntimeError("empty completion")

    async def close() -> None:
        # Let LiteLLM's own background logging tasks finish before the loop closes.
        await asyncio.sleep(0)

    return send, close


SENDERS = {"httpx": _httpx_sender, "litellm": _litellm_sender}


async def sequential(send, runs: int) -> dict:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        await send()
        durations.append(time.perf_counter() - started)
    return {"durations": durations, "completed": len(durations)}


async def batch(send, runs: int, concurrency: int) -> dict:
    """`concurrency` loops sharing `runs` requests: always `concurrency` requests in flight until the end."""
    remaining = runs
    completed = 0

    async def loop() -> None:
        nonlocal remaining, completed
        while remaining > 0:
            remaining -= 1
            await send()
            completed += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return {"elapsed": time.perf_counter() - started, "completed": completed}


async def run(system: str, spec: dict) -> dict:
    send, close = SENDERS[system](spec)
    try:
        for _ in range(WARMUP_REQUESTS):
            await send()
        if spec["mode"] == "sequential":
            return await sequential(send, spec["runs"])
        return await batch(send, spec["runs"], spec["concurrency"])
    finally:
        await close()


def main() -> None:
    system = sys.argv[1]
    if system == "litellm":
        import litellm  # noqa: F401 (imported before "ready": its import takes seconds)
    else:
        import httpx  # noqa: F401
    print(json.dumps({"ready": True}), flush=True)
    asyncio.run(serve(system))


async def serve(system: str) -> None:
    # One event loop for the process's life: LiteLLM keeps its HTTP clients per loop.
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        result = await run(system, json.loads(line))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
