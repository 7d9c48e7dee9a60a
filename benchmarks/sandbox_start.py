"""Kernel start with and without the grading sandbox (course/grading/sandbox.py).

    python -m benchmarks.sandbox_start [--runs N]

Starts the grading kernel (SandboxKernelManager, course.judge.checks preimported) N
times with BACKPROP_SANDBOX on and off, interleaved, and prints the median and
spread of the time from start to the reply of a first cell `import numpy as np` (which every
notebook runs; the grading kernel has imported numpy already). A plain
AsyncKernelManager (nbgrader's default, no preimport) is the floor. CPU is the
user+system time of the kernel's process tree (bwrap, setpriv, prlimit, python) up
to that reply, which a loaded machine disturbs less than the wall-clock time.
"""
import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager

from course.grading.sandbox import SandboxKernelManager


def tree_cpu(pid):
    """User+system CPU seconds so far of process pid and all its descendants (from /proc)."""
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    family = {pid}
    for _ in range(10):   # a few generations: bwrap -> init -> kernel
        family |= {child for child, parent in parents.items() if parent in family}
    return sum(cpu.get(p, 0.0) for p in family)


async def one_start(manager_class, cwd):
    """(wall seconds to the first reply, CPU seconds the kernel's processes used until then)."""
    km = manager_class(kernel_name="python3")
    start = time.perf_counter()
    await km.start_kernel(cwd=cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive("import numpy as np", timeout=60)   # every notebook does
        assert reply["content"]["status"] == "ok", reply
        wall = time.perf_counter() - start
        cpu = tree_cpu(km.provisioner.process.pid)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return wall, cpu


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
        wall = [w for w, _ in values]
        cpu = [c for _, c in values]
        print(f"  {label:40} wall median {statistics.median(wall):.2f} s (min {min(wall):.2f}, max {max(wall):.2f})"
              f"   CPU median {statistics.median(cpu):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
