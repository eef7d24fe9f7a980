"""A handler module's imports, with the garbage collector waiting until they are done.

A cold start allocates a few hundred thousand objects (pydantic models and validators,
boto3's service models, Powertools' routes), none of which is garbage, and CPython's
collector walks them again and again while they load: about a fifth of enqueue's cold
import. Inside :func:`importing` nothing is collected; at its end what the imports built is
moved to the permanent generation (``gc.freeze``), so no later collection walks it either,
and collection resumes as before for everything the invocations allocate."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def importing() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
