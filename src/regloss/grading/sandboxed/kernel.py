"""The kernel side: what runs beside student code in the nbgrader kernel.

Student code runs (for the executed notebook and the feedback the student
reads) in a Jupyter kernel started through :func:`main` (the
``regloss-sandbox`` kernel), which

* enters the sandbox (:func:`regloss.grading.sandboxed.isolation.enter`): its own mount and
  PID namespaces with everything but its working copy hidden, where allowed;
  its own (sanitised, hidden-test holding) notebook file hidden too;
* caps the kernel's address space (``resource.setrlimit(RLIMIT_AS)``);
* caps the characters a cell may print and the displays it may emit;
* turns ``os._exit`` / ``os.abort`` during a cell into an ordinary error;
* logs the running cell and the paths cells look at outside their folder.

Nothing the kernel reports decides a grade on its own: the judge
(:mod:`regloss.grading.judge.judging`) re-checks every test cell outside it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from regloss.grading.programs import Program
from regloss.grading.sandboxed import isolation as sandbox
from regloss.grading.wire.problems import TRUNCATION_MARK

KERNEL_NAME = "regloss-sandbox"
DEFAULT_MEMORY_MB = 2048
DEFAULT_MAX_OUTPUT = 100_000  # characters per cell
DEFAULT_MAX_DISPLAYS = 50  # rich displays (figures, ...) per cell


def write_kernelspec(share_dir: Path, isolation, memory_mb: int, max_output: int):
    """Write the ``regloss-sandbox`` kernelspec under ``share_dir/kernels`` (put
    ``share_dir`` on ``JUPYTER_PATH``); ``isolation`` is a :class:`regloss.grading.sandboxed.isolation.Isolation`."""
    d = Path(share_dir) / "kernels" / KERNEL_NAME
    d.mkdir(parents=True, exist_ok=True)
    argv = [
        *isolation.fs_prefix(),
        *Program.KERNEL.argv(),
        "--memory-mb", str(memory_mb), "--max-output", str(max_output),
        "--", "-f", "{connection_file}",
    ]
    spec = {"argv": argv, "display_name": "Python 3 (regloss sandbox)", "language": "python"}
    (d / "kernel.json").write_text(json.dumps(spec, indent=1))
    return d


def _cap_output(shell, stdout, stderr, max_chars, max_displays):
    """Limit what one cell can print (characters) and display (rich outputs)."""
    state = {"left": max_chars, "displays": 0, "noted": False}

    def reset(*_a, **_k):
        state.update(left=max_chars, displays=0, noted=False)

    shell.events.register("pre_run_cell", reset)

    def wrap(stream):
        orig = stream.write

        def write(s):
            if not isinstance(s, str):
                return orig(s)
            n = len(s)
            if state["left"] <= 0:
                return n
            if n > state["left"]:
                cut = s[: state["left"]]
                state["left"] = 0
                orig(cut + f"\n{TRUNCATION_MARK} after {max_chars} characters]\n")
                return n
            state["left"] -= n
            return orig(s)

        stream.write = write

    wrap(stdout)
    wrap(stderr)
    pub = shell.display_pub
    orig_publish = pub.publish

    def publish(*args, **kwargs):
        state["displays"] += 1
        if state["displays"] > max_displays:
            return None
        return orig_publish(*args, **kwargs)

    pub.publish = publish


def _guard_exits(shell, cell_log=None):
    """During a cell, ``os._exit`` / ``os.abort`` raise instead of killing the kernel."""
    running = {"cell": False}
    real_exit, real_abort = os._exit, os.abort

    class KernelExitBlocked(SystemExit):
        pass

    def _exit(code=0):
        if running["cell"]:
            raise RuntimeError(f"os._exit({code}) was called; the grader does not let a notebook stop the kernel")
        real_exit(code)

    def _abort():
        if running["cell"]:
            raise RuntimeError("os.abort() was called; the grader does not let a notebook stop the kernel")
        real_abort()

    os._exit, os.abort = _exit, _abort
    shell.events.register("pre_run_cell", lambda *a, **k: running.update(cell=True))
    if cell_log:  # which cell is running, for the grader to skip it if the kernel dies

        def log_cell(info):
            try:
                with open(cell_log, "w") as f:
                    f.write(info.raw_cell or "")
            except OSError:
                pass

        shell.events.register("pre_run_cell", log_cell)
    shell.events.register("post_run_cell", lambda *a, **k: running.update(cell=False))


#: File (in the kernel's runtime folder) where the kernel lists paths a cell looked at outside its folder.
ACCESS_LOG = "outside_access.txt"

#: Audit events that reveal where a cell looks on disk.
WATCHED_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "os.chdir"})


def _watch_access(shell, log_path, allowed):
    """Record, during cells, file opens and listings outside ``allowed`` folders.

    A :func:`sys.addaudithook` sees every ``open``, ``os.listdir``, ``os.scandir``,
    ``glob.glob`` and ``os.chdir``; the paths outside the working copy, the Python
    installation and the system folders are written to ``log_path`` after each
    cell, so the grader can say that the notebook went looking for files.
    """
    # folders end in a separator; a prefix given with a trailing "." (``~/.``) is taken as is
    allowed = tuple(a if a.endswith(os.sep + ".") else os.path.join(os.path.abspath(a), "")
                    for a in allowed if a)
    state = {"cell": False, "busy": False, "seen": []}

    def hook(event, args):
        if not state["cell"] or state["busy"] or event not in WATCHED_EVENTS or not args:
            return
        path = args[0]
        if isinstance(path, int) or path is None:
            return
        state["busy"] = True
        try:
            p = os.path.join(os.path.abspath(os.fsdecode(path)), "")
            if not p.startswith(allowed) and len(state["seen"]) < 20 and p[:-1] not in state["seen"]:
                state["seen"].append(p[:-1] or "/")
        except Exception:  # noqa: BLE001 - a hook must never break the cell
            pass
        finally:
            state["busy"] = False

    def flush(*_a, **_k):
        state["cell"] = False
        if state["seen"]:
            state["busy"] = True
            try:
                with open(log_path, "a") as f:
                    f.write("\n".join(state["seen"]) + "\n")
            except OSError:
                pass
            finally:
                state["busy"] = False
                state["seen"] = []

    shell.events.register("pre_run_cell", lambda *a, **k: state.update(cell=True))
    shell.events.register("post_run_cell", flush)
    sys.addaudithook(hook)


def preload_matplotlib():
    """In the kernel zygote: import pyplot (its backend still unresolved) and build
    matplotlib's font list and first-drawing caches once, instead of in every student's first cells.

    A sandboxed kernel cannot keep matplotlib's font cache (its home folder's cache
    is hidden or read-only), so a fresh kernel rebuilt the font list from every
    font file on each start. Nothing is drawn with pyplot: no figure, no
    backend choice, reaches the kernels forked afterwards."""
    import io

    import matplotlib
    import matplotlib.pyplot  # noqa: F401 - with the backend unresolved (rcParams' auto sentinel)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import regloss.teaching.plotting  # noqa: F401

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="$e^2$")
    ax.set_title("loss")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")
    if matplotlib.rcParams._get_backend_or_none() is not None:  # the kernel must still choose, as when fresh
        raise RuntimeError(f"matplotlib's backend was chosen in the zygote: {matplotlib.rcParams['backend']}")


def _matplotlib_backend_from_env():
    """What ``import matplotlib`` reads from ``MPLBACKEND`` when it runs after the
    kernel set it (ipykernel's inline backend): a kernel forked by the zygote has
    matplotlib imported already, and would otherwise fall back to Agg and show no figure."""
    mpl = sys.modules.get("matplotlib")
    backend = os.environ.get("MPLBACKEND")
    if mpl is not None and backend and mpl.rcParams._get_backend_or_none() is None:
        mpl.rcParams["backend"] = backend


def main(argv):
    """Entry point of the ``regloss-sandbox`` kernel (see the module docstring)."""
    import argparse
    import resource

    p = argparse.ArgumentParser()
    p.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    p.add_argument("--max-output", type=int, default=DEFAULT_MAX_OUTPUT)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest

    spec = sandbox.SandboxSpec.from_env()
    if spec.keep:
        # the sanitised notebook in the working folder holds the hidden tests
        sandbox.enter(spec, extra_files=sorted(Path.cwd().glob("*.ipynb")))
    # silence the kernel's own stdout/stderr (a flood at file-descriptor level
    # must not fill the grader's logs); cell output still reaches the notebook
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    if a.memory_mb > 0:
        limit = a.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    # the history in memory: its file would be root's, and the student user could not write it
    app.initialize([*rest, "--HistoryManager.hist_file=:memory:"])
    _matplotlib_backend_from_env()
    _cap_output(app.shell, sys.stdout, sys.stderr, a.max_output, DEFAULT_MAX_DISPLAYS)
    _guard_exits(app.shell, spec.cell_log)
    if spec.access_log:
        import regloss

        home = os.path.expanduser("~")
        allowed = [os.getcwd(), os.path.dirname(spec.access_log), sys.prefix, sys.base_prefix,
                   os.path.dirname(os.path.abspath(regloss.__file__)),
                   *[p for p in sys.path if p and os.path.isdir(p)],
                   *[f"/{d}" for d in sandbox.SYSTEM_DIRS],
                   # the home folder's hidden folders: caches, settings and fonts that numpy,
                   # matplotlib and IPython read on their own
                   os.path.join(home, ".")]
        _watch_access(app.shell, spec.access_log, allowed)
    if spec.filesystem and spec.keep:  # in its own mount namespace: the walls, before any student code
        from regloss.grading.sandboxed import walls

        notes = {os.path.dirname(f) for f in (spec.cell_log, spec.access_log) if f}
        walls.raise_walls(sandbox.installation(), [os.getcwd(), *sorted(notes)], spec.uid)
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
