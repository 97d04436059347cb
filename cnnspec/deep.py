"""Deep specs on a deep stack: the stages that recurse once per level of block nesting
run in a worker thread with a large stack and a raised recursion limit.

A block may use blocks that use blocks; the walk, the lowering, the writers and the
diagram recurse once per level, so a generated spec a thousand blocks deep needs more
than the default stack. :func:`deep_stack` runs a stage in a thread whose stack and
recursion limit allow the nesting the spec format allows (``MAX_NESTING`` levels,
checked with a located ``[too-deep]`` error by the walk); a stage called from inside
another runs directly, and the caller's trace and profile functions (a debugger's,
coverage's) follow the stage into the thread.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

#: The stack of the worker thread (reserved address space; pages are touched as used).
STACK_BYTES = 768 * 1024 * 1024

#: The recursion limit while a deep stage runs (restored when the last one ends).
RECURSION_LIMIT = 150_000

F = TypeVar("F", bound=Callable[..., Any])

_local = threading.local()
_lock = threading.Lock()
_active = 0
_saved_limit = 0


def _enter() -> None:
    global _active, _saved_limit
    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
        _active += 1


def _leave() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            sys.setrecursionlimit(_saved_limit)


def deep_stack(fn: F) -> F:
    """``fn`` run on a deep stack (directly when the caller already runs on one)."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if getattr(_local, "deep", False):
            return fn(*args, **kwargs)
        result: dict[str, Any] = {}
        trace, profile = sys.gettrace(), sys.getprofile()  # a debugger's, coverage's

        def run() -> None:
            _local.deep = True
            sys.settrace(trace)
            sys.setprofile(profile)
            try:
                result["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 — raised again in the caller
                result["error"] = exc

        _enter()
        try:
            with _lock:
                old = threading.stack_size(STACK_BYTES)
                try:
                    worker = threading.Thread(target=run, name=f"cnnspec-{fn.__name__}")
                    worker.daemon = True
                    worker.start()
                finally:
                    threading.stack_size(old)
            worker.join()
        finally:
            _leave()
        if "error" in result:
            raise result["error"]
        return result["value"]

    return call  # type: ignore[return-value]
