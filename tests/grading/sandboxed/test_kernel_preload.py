"""The kernel zygote imports what a sandbox kernel's start would import in every
student's kernel (regloss.grading.sandboxed.kernel_zygote.preload_kernel)."""

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # starts Python processes that start a kernel

HEAVY = ("debugpy", "_pydevd_bundle", "_pydev_bundle", "sqlite3", "psutil", "IPython.core.debugger", "tornado.queues")

PROBE = textwrap.dedent('''
    import json, os, sys, tempfile
    out = os.dup(1)  # the kernel captures descriptors 1 and 2
    from regloss.grading.sandboxed import kernel_zygote as zygote
    from ipykernel.kernelapp import IPKernelApp  # imported by the zygote in either case
    if sys.argv[1] == "preload":
        zygote.preload_kernel()
    before = set(sys.modules)
    conn = os.path.join(tempfile.mkdtemp(), "kernel.json")
    app = IPKernelApp.instance()
    app.initialize(["-f", conn, "--IPKernelApp.log_level=CRITICAL"])
    os.write(out, (json.dumps(sorted(set(sys.modules) - before)) + "\\n").encode())
    os._exit(0)
''')


def started_imports(mode):
    p = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=300,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def heavy(mods):
    return sorted({m for m in mods for h in HEAVY if m == h or m.startswith(h + ".")})


def test_a_kernel_forked_from_the_zygote_imports_nothing_heavy_at_start():
    fresh = started_imports("fresh")
    assert heavy(fresh), "the probe no longer sees what a kernel's start imports"  # the test can fail
    preloaded = started_imports("preload")
    assert heavy(preloaded) == [], heavy(preloaded)
    assert len(preloaded) < len(fresh) / 10, (len(preloaded), len(fresh), preloaded)


@pytest.mark.parametrize("name",
                         __import__("regloss.grading.sandboxed.kernel_zygote", fromlist=["x"]).KERNEL_START_IMPORTS)
def test_each_start_import_exists(name):
    import importlib.util

    assert importlib.util.find_spec(name) is not None
