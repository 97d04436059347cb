"""Benchmarks for cnnspec: startup, scaling, generated-model latency, memory.

Run from the repository root::

    python -m bench            # full run, a few minutes on a 2-core machine
    python -m bench --quick    # every row once, only to prove the bench works

It prints one markdown table. Whole-process numbers (startup, memory) come from
child processes timed with ``time.perf_counter``; every ratio compares two
measurements taken in the same run, interleaved, as medians.
"""
