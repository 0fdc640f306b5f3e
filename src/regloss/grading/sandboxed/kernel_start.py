"""What a sandbox kernel needs to start, measured: the floor of ``--memory``.

A kernel's memory cap is a cap on its address space (``RLIMIT_AS``,
:mod:`regloss.grading.sandboxed.kernel`). A kernel with NumPy, SciPy, torch and
matplotlib imported and ipykernel's threads started holds far more address space
than memory (each thread reserves its stack and its own ``malloc`` arena, and torch
starts a thread per core at its first product): a cap below that kills every
student's kernel before its first cell, and the whole class scores 0.

:func:`main` (``python -m regloss.grading.sandboxed.kernel_start``) measures it the
way a grading kernel starts: the kernel zygote's imports
(:func:`~regloss.grading.sandboxed.kernel_zygote.preload_kernel`), an IPython kernel
initialised as :func:`~regloss.grading.sandboxed.kernel.main` initialises it (its
sockets on loopback, in a folder of its own), then one cell that does what the
notebooks' first cells do (NumPy arrays, a torch product). It prints the process's
peak address space in MB (``VmPeak``) as JSON, on its own line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

#: What the measured cell does: the notebooks' first cells' kind of work.
FIRST_CELL = ("import numpy as np, torch\n"
              "x = np.linspace(-3, 3, 100_000)\n"
              "t = torch.ones(500, 500) @ torch.ones(500, 500)\n")


def peak_mb(status: str) -> int:
    """``VmPeak`` of a ``/proc/<pid>/status`` text, in MB (rounded up)."""
    for line in status.splitlines():
        if line.startswith("VmPeak:"):
            kib = int(line.split()[1])
            return -(-kib // 1024)
    raise ValueError("no VmPeak line")


def main(argv: list[str]) -> None:
    out = os.dup(1)  # the kernel replaces sys.stdout; the measure goes to the real one
    runtime = tempfile.mkdtemp(prefix="regloss-kernel-start-")
    try:
        os.environ["JUPYTER_RUNTIME_DIR"] = runtime
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        from regloss.grading.sandboxed.kernel_zygote import preload_kernel

        preload_kernel()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["--HistoryManager.hist_file=:memory:", "--ip=127.0.0.1"])
        shell = app.shell
        assert shell is not None  # made by initialize()
        result = shell.run_cell(FIRST_CELL, store_history=False)
        with open("/proc/self/status") as f:
            mb = peak_mb(f.read())
        os.write(out, (json.dumps({"peak_mb": mb, "ok": bool(result.success)}) + "\n").encode())
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    os._exit(0)  # the kernel's threads are not stopped one by one


if __name__ == "__main__":
    main(sys.argv[1:])
