"""Does every Dask worker grade with this machine's code? Checked before a class is sent.

A worker whose ``regloss`` is missing, older, or edited, or whose torch, NumPy or
nbgrader differ, would grade with other truths and other tests; a worker
without the package at all would fail every student it is handed. So before
the first task, the parent asks each worker for :func:`probe` (this module
imports nothing but the standard library, and is sent to the workers by value:
it runs where ``regloss`` is not installed) and compares the answers with its
own (:func:`mismatches`, pure). Any difference is an instructor's error naming
the worker and what differs; nothing has been graded yet.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import platform

#: The installed packages a grade depends on: the course's code, the truths
#: (torch, NumPy, SciPy), the figures, and nbgrader's machinery.
PACKAGES = ("regloss", "torch", "numpy", "scipy", "matplotlib", "nbgrader", "nbconvert", "nbclient",
            "ipykernel", "jupyter_client")


def source_digest(package="regloss"):
    """sha256 over the relative paths and contents of every file of ``package``'s
    installed folder (``__pycache__`` left out), found without importing it;
    None when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    h = hashlib.sha256()
    for folder in sorted(spec.submodule_search_locations):
        for here, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(here, name)
                h.update(os.path.relpath(path, folder).encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(f.read())
                h.update(b"\0")
    return h.hexdigest()


def probe(packages=PACKAGES):
    """What this process would grade with: ``{"python": "3.11", "packages": {name:
    version or None}, "regloss_source": sha256 or None}``."""
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": ".".join(platform.python_version_tuple()[:2]), "packages": versions,
            "regloss_source": source_digest()}


def mismatches(here: dict, workers: dict) -> list[str]:
    """One line per worker that would not grade as this machine does.

    Parameters
    ----------
    here : dict
        :func:`probe` of this process.
    workers : dict
        ``{worker's name or address: probe() of it, or the exception it raised}``.
    """
    lines = []
    for name in sorted(workers):
        got = workers[name]
        if isinstance(got, BaseException):
            lines.append(f"{name}: could not be asked ({type(got).__name__}: {got})")
            continue
        why = []
        if got.get("python") != here["python"]:
            why.append(f"Python {got.get('python')} (here {here['python']})")
        theirs = got.get("packages", {})
        for pkg, version in here["packages"].items():
            if theirs.get(pkg) == version:
                continue
            if theirs.get(pkg) is None:
                why.append(f"{pkg} is not installed")
            else:
                why.append(f"{pkg} {theirs[pkg]} (here {version})")
        if not why and here["regloss_source"] is not None and got.get("regloss_source") != here["regloss_source"]:
            why.append("regloss's files are not there (installed, but its package folder is missing)"
                       if got.get("regloss_source") is None else
                       "regloss's files differ from this machine's (same version, edited code)")
        if why:
            lines.append(f"{name}: " + "; ".join(why))
    return lines


def _label(addr, info):
    name = info.get("name")
    return f"worker {name} ({addr})" if name not in (None, "", addr) else f"worker {addr}"


_HERE: dict = {}


def here():
    """:func:`probe` of this process, made once (the code does not change under a running process)."""
    if "probe" not in _HERE:
        _HERE["probe"] = probe()
    return _HERE["probe"]


def this_worker(expected: dict):
    """In a Dask task: raise :class:`~regloss.course.CourseError` when this worker
    differs from ``expected`` (the parent's :func:`probe`); a worker that joined the
    cluster after :func:`check_workers` is caught here, before it grades anyone."""
    from regloss.course import CourseError

    lines = mismatches(expected, {"this Dask worker": here()})
    if lines:
        raise CourseError(lines[0] + "; install the same versions there and start it again")


def check_workers(client):
    """Raise :class:`~regloss.course.CourseError` naming each worker of ``client``'s
    cluster that differs from this machine (:func:`mismatches`)."""
    import sys

    import cloudpickle

    from regloss.course import CourseError

    module = sys.modules[__name__]
    if module.__name__ not in cloudpickle.list_registry_pickle_by_value():
        cloudpickle.register_pickle_by_value(module)  # the workers need not have regloss to run it
    answers = client.run(probe, on_error="return")
    info = client.scheduler_info().get("workers", {})
    lines = mismatches(here(), {_label(addr, info.get(addr, {})): got for addr, got in answers.items()})
    if lines:
        raise CourseError("these Dask workers would not grade as this machine does; install the same "
                          "versions there (pip install this course's package and its pinned "
                          "dependencies) and start them again:\n  " + "\n  ".join(lines))
