"""The benchmark of issue 6: run overhead, batch throughput and worker memory against bare httpx and LiteLLM."""
