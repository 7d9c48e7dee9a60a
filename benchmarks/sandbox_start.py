"""Kernel start with and without the grading sandbox (course/sandbox.py).

    python -m benchmarks.sandbox_start [--runs N]

Starts the grading kernel (SandboxKernelManager, course.grading preimported) N
times with BACKPROP_SANDBOX on and off, interleaved, and prints the median and
spread of the time from start to the first executed cell's reply. A plain
AsyncKernelManager (nbgrader's default, no preimport) is the floor.
"""
import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager

from course.sandbox import SandboxKernelManager


async def one_start(manager_class, cwd):
    km = manager_class(kernel_name="python3")
    start = time.perf_counter()
    await km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive("x = 1 + 1", timeout=60)
        assert reply["content"]["status"] == "ok", reply
        return time.perf_counter() - start
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    variants = [("nbgrader default (AsyncKernelManager)", AsyncKernelManager, "off"),
                ("grading kernel, sandbox off", SandboxKernelManager, "off"),
                ("grading kernel, sandbox on", SandboxKernelManager, "on")]
    times = {label: [] for label, _, _ in variants}
    with tempfile.TemporaryDirectory() as cwd:
        for _ in range(args.runs):
            for label, cls, switch in variants:
                os.environ["BACKPROP_SANDBOX"] = switch
                times[label].append(asyncio.run(one_start(cls, cwd)))
    print(f"kernel start to first reply, {args.runs} runs each, load average {os.getloadavg()[0]:.1f}")
    for label, values in times.items():
        print(f"  {label:40} median {statistics.median(values):.2f} s   min {min(values):.2f} s   max {max(values):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
