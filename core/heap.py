"""The web process's heap, kept out of the garbage collector's way.

CPython's full (oldest-generation) collection walks every tracked object of the process. A web worker holds
~150,000 of them once Django, the apps and every view are loaded, and a full collection of those took ~110 ms on
the benchmark's machine, about once in 15 API requests (each answer leaves a few thousand objects in reference
cycles, which push the collector to a full pass): measured as the results API's p95 (bench/evaluations.py), the
same at 2,000 and 20,000 runs. Objects loaded at start live as long as the process, so they are moved out of the
collector's sight (gc.freeze, as Python's documentation advises for pre-fork servers); full collections then walk
only what requests leave behind.
"""

import gc


def heap_freeze() -> int:
    """Load every view (the URLconf), collect what loading left behind, then move every object alive into the
    permanent generation, which no collection walks. Call once per process after the application is loaded (the
    gunicorn worker's post_worker_init). Returns how many objects were frozen."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
