"""Which Dask workers would not grade as this machine does (``regloss.grading.run.cluster_match``):
the pure comparison, this machine's own probe, and the probe run where regloss is not installed.
The real cluster with a worker that differs: ``tests/grading/run/test_scale.py``."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from regloss.course import CourseError
from regloss.grading.run import cluster_match as cm
from regloss.grading.run.parent import not_graded
from regloss.grading.wire.jobs import StudentJob

ROOT = Path(__file__).resolve().parents[3]

HERE = {"python": "3.11", "packages": {"regloss": "0.1.0", "torch": "2.13.0", "numpy": "2.3.5"},
        "regloss_source": "a" * 64}


def changed(**what):
    d = copy.deepcopy(HERE)
    for key, value in what.items():
        if key in d["packages"]:
            d["packages"][key] = value
        else:
            d[key] = value
    return d


@pytest.mark.parametrize("theirs, says", [
    (changed(python="3.12"), "Python 3.12 (here 3.11)"),
    (changed(torch="2.12.1"), "torch 2.12.1 (here 2.13.0)"),
    (changed(regloss=None), "regloss is not installed"),
    (changed(numpy=None, torch="2.1.0"), "numpy is not installed"),
    (changed(regloss_source="b" * 64), "regloss's files differ"),
    (OSError("connection reset"), "could not be asked (OSError: connection reset)"),
])
def test_a_worker_that_differs_is_named_with_what_differs(theirs, says):
    lines = cm.mismatches(HERE, {"worker w1": HERE, "worker w2": theirs})
    assert len(lines) == 1
    assert lines[0].startswith("worker w2: ") and says in lines[0], lines


def test_every_difference_of_a_worker_is_on_its_line():
    lines = cm.mismatches(HERE, {"w": changed(python="3.10", torch="2.0.0", numpy=None)})
    assert len(lines) == 1
    assert all(s in lines[0] for s in ("Python 3.10", "torch 2.0.0", "numpy is not installed")), lines


def test_workers_like_this_machine_pass_and_an_extra_package_there_does_not_matter():
    extra = copy.deepcopy(HERE)
    extra["packages"]["pandas"] = "2.0"
    assert cm.mismatches(HERE, {"w1": copy.deepcopy(HERE), "w2": extra}) == []


def test_this_machines_probe_sees_its_own_installation():
    here = cm.probe()
    assert here["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert set(here["packages"]) == set(cm.PACKAGES)
    assert all(here["packages"][p] for p in ("regloss", "torch", "numpy", "nbgrader")), here
    assert len(here["regloss_source"]) == 64 and here["regloss_source"] == cm.source_digest()
    assert cm.source_digest("no_such_package_here") is None


def test_the_digest_changes_with_one_edited_file(tmp_path):
    pkg = tmp_path / "copy" / "regloss"
    shutil.copytree(ROOT / "src" / "regloss", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    code = "from regloss.grading.run.cluster_match import source_digest; print(source_digest())"

    def digest():
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONPATH": str(pkg.parent), "PATH": "/usr/bin:/bin"}).stdout.strip()

    assert digest() == cm.source_digest()  # a faithful copy: the same code
    with open(pkg / "checks" / "compare.py", "a") as f:
        f.write("\n# edited\n")
    assert digest() != cm.source_digest()


def test_the_probe_runs_where_regloss_is_not_installed(tmp_path):
    """What the workers are sent: the probe pickled by value, loaded by an interpreter
    without site-packages (``-I -S``) that has only cloudpickle (which every Dask worker has)."""
    import json

    import cloudpickle

    cloudpickle.register_pickle_by_value(cm)
    try:
        blob = cloudpickle.dumps(cm.probe)
    finally:
        cloudpickle.unregister_pickle_by_value(cm)
    (tmp_path / "probe.pkl").write_bytes(blob)
    shutil.copytree(Path(cloudpickle.__file__).parent, tmp_path / "lib" / "cloudpickle")
    code = ("import sys; sys.path.insert(0, sys.argv[2]); import importlib.util, json, pickle; "
            "assert importlib.util.find_spec('regloss') is None; "
            "print(json.dumps(pickle.load(open(sys.argv[1], 'rb'))()))")
    p = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(tmp_path / "probe.pkl"), str(tmp_path / "lib")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["regloss_source"] is None
    lines = cm.mismatches(cm.probe(), {"bare worker": got})
    assert lines and "regloss is not installed" in lines[0] and "torch is not installed" in lines[0], lines


def test_installed_metadata_without_the_package_folder_is_named():
    lines = cm.mismatches(HERE, {"w": changed(regloss_source=None)})
    assert lines == ["w: regloss's files are not there (installed, but its package folder is missing)"]


def test_a_worker_that_joined_late_refuses_the_task():
    cm._HERE.pop("probe", None)
    cm.this_worker(cm.probe())  # like this machine: grades
    parent = cm.probe()
    parent["packages"]["torch"] = "0.0.1"
    with pytest.raises(CourseError, match=r"this Dask worker: torch .* \(here 0\.0\.1\)"):
        cm.this_worker(parent)


def test_a_student_whose_grading_raised_is_graded_again_by_the_next_run():
    job = StudentJob("ada", {}, None, None, [], "digest", "key-of-the-run", 0)
    res = not_graded(job, ConnectionError("the worker died"))
    assert res.graded is False and res.key == ""  # a key would make the next run skip them
    assert res.problems[-1].kind == "worker_failed"
    assert "ConnectionError: the worker died" in res.problems[-1] and "again" in res.problems[-1]


def test_the_reason_is_the_gist_of_the_error_not_the_clusters_details():
    job = StudentJob("ada", {}, None, None, [], "digest", "key", 0)
    killed = RuntimeError("Attempted to run task 'regloss-01-ada' on 1 different workers, but all those workers "
                          "died while running it. The last worker that attempt to run the task was "
                          "tcp://10.0.0.7:43309. Inspecting worker logs is often a good next step.")
    said = not_graded(job, killed).problems[-1]
    assert "all those workers died while running it" in said and "tcp://" not in said, said
    assert len(not_graded(job, OSError("x" * 500)).problems[-1]) < 300
