"""Kernel start: nbgrader's default against the grading kernel, started or forked (course/grading/sandbox.py).

    python -m benchmarks.sandbox_start [--runs N]

Starts each kind of kernel N times, interleaved, and prints the median and spread of the time
from start to the reply of a first cell `import numpy as np` (which every notebook runs):
- nbgrader's default: AsyncKernelManager and jupyter_client's client (the floor before this course);
- the grading kernel unsandboxed, and in its sandbox started anew (`bwrap ... python -m
  ipykernel_launcher`), both with jupyter_client's client;
- the grading kernel as grading runs it: forked into its sandbox from the preloaded fork server
  (course.grading.forkserver), made ready by course.grading.execute.ReadyClient.
CPU is the whole machine's busy time over the start (benchmarks.common.machine_busy_seconds),
because a forked kernel is no descendant of the manager: on an idle machine, what the start costs.
"""
import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager

from course.grading.execute import ReadyClient
from course.grading.sandbox import SandboxKernelManager

from .common import machine_busy_seconds


async def one_start(manager_class, cwd, ready_client=False, **traits):
    """(wall seconds to the first reply, machine CPU seconds used until then)."""
    km = manager_class(kernel_name="python3", **traits)
    if ready_client:
        km.client_factory = ReadyClient
    busy, start = machine_busy_seconds(), time.perf_counter()
    await km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive("import numpy as np", timeout=60)   # every notebook does
        assert reply["content"]["status"] == "ok", reply
        wall, cpu = time.perf_counter() - start, machine_busy_seconds() - busy
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return wall, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    variants = [("nbgrader default (AsyncKernelManager)", AsyncKernelManager, "off", {}),
                ("grading kernel, sandbox off", SandboxKernelManager, "off", {}),
                ("grading kernel, sandbox on, started", SandboxKernelManager, "on", {"fork_kernels": False}),
                ("grading kernel, sandbox on, forked (grading)", SandboxKernelManager, "on",
                 {"fork_kernels": True, "ready_client": True})]
    times = {label: [] for label, *_ in variants}
    with tempfile.TemporaryDirectory() as cwd:
        os.environ["BACKPROP_SANDBOX"] = "on"
        asyncio.run(one_start(SandboxKernelManager, cwd))   # the fork server starts once per grading process
        for _ in range(args.runs):
            for label, cls, switch, traits in variants:
                os.environ["BACKPROP_SANDBOX"] = switch
                times[label].append(asyncio.run(one_start(cls, cwd, **traits)))
    print(f"kernel start to first reply, {args.runs} runs each, load average {os.getloadavg()[0]:.1f}")
    for label, values in times.items():
        wall = [w for w, _ in values]
        cpu = [c for _, c in values]
        print(f"  {label:46} wall median {statistics.median(wall):.2f} s (min {min(wall):.2f}, max {max(wall):.2f})"
              f"   machine CPU median {statistics.median(cpu):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
