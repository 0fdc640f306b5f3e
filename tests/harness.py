"""Autograde notebooks with stock nbgrader in a throw-away copy of the course.

``autograde_class(assignment, submissions)`` copies ``solutions/`` and the
nbgrader configuration into a temporary course, runs ``nbgrader
generate_assignment`` there (which records the hidden tests in that course's
own SQLite gradebook), places each submission under ``submitted/<student>/``
and runs ``nbgrader autograde``. Students are split into shards, each with its
own course folder and gradebook, autograded in parallel processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from regloss import course
from regloss.course import cells as nbcells

ROOT = Path(__file__).resolve().parents[1]
TEST_CELL = nbcells.TEST_CELL  # test_<function>__<tag>

#: ``REGLOSS_STOCK_CATALOGUE=all``: stock nbgrader grades every catalogue entry (25 min
#: on 2 cores) instead of :func:`stock_sample`'s (the judge grades every entry either way).
STOCK_CATALOGUE = "REGLOSS_STOCK_CATALOGUE"


def stock_sample(entries):
    """The catalogue entries that stock nbgrader grades as well as the judge.

    ``regloss grade`` scores with the judge, which grades every entry
    (``tests/grading/test_catalogue.py::*under_the_judge``). Stock nbgrader runs the same
    test cells in the student's kernel; that it agrees is shown on the first entry
    of each kind (wrong, correct, delegating) of every exercise, or on every entry
    when the environment variable :data:`STOCK_CATALOGUE` is ``all``.
    """
    entries = list(entries)
    if os.environ.get(STOCK_CATALOGUE) == "all":
        return entries
    seen, sample = set(), []
    for e in entries:
        key = (e.assignment, e.cell, e.expect)
        if key not in seen:
            seen.add(key)
            sample.append(e)
    return sample


@dataclass
class CellScore:
    grade_id: str
    score: float | None
    max_score: float


def notebook_path(assignment, root=ROOT, tree="solutions"):
    (nb,) = sorted((root / tree / assignment).glob("*.ipynb"))
    return nb


def read_source(assignment):
    return nbformat.read(notebook_path(assignment), as_version=4)


def solution_sources(assignment):
    """``{grade_id: source}`` of the source notebook's solution code cells, markers removed:
    what a perfect student writes."""
    out = {}
    for c in read_source(assignment).cells:
        m = c.metadata.get("nbgrader", {})
        if m.get("solution") and c.cell_type == "code":
            out[m["grade_id"]] = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", "", c.source, flags=re.M)
    return out


def stock_students(entries):
    """``{student_id: [entries]}``: the notebooks stock nbgrader grades for ``entries``.

    A wrong entry is a notebook of its own (its exercise must lose points by its own
    mistake). The correct alternates are put together, as many in one notebook as replace
    different cells (every test must still pass: stronger than one at a time), and so are
    the delegating ones (each of their exercises must still earn 0). A whole notebook costs
    the same to run whatever it holds; 07's takes about 20 s.
    """
    from tests.catalogue import WRONG

    students: dict = {}
    for e in entries:
        if e.expect == WRONG:
            students[e.student_id] = [e]
            continue
        for k in range(len(entries)):
            sid = f"together--{e.assignment}--{e.expect}-{k}".replace("_", "-")
            group = students.setdefault(sid, [])
            if not any(set(e.replacements) & set(g.replacements) for g in group):
                group.append(e)
                break
    return students


def stock_student_of(entry, entries):
    """The student id under which :func:`stock_students` grades ``entry``."""
    return next(sid for sid, group in stock_students(entries).items() if entry in group)


def together(nb, group):
    """``nb`` with the cells of every entry in ``group`` replaced."""
    replacements: dict = {}
    for e in group:
        replacements.update(e.replacements)
    return with_cells(nb, replacements)


def with_cells(nb, replacements):
    """A copy of ``nb`` with the source of the cells whose grade_id is a key replaced."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    found = set()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in replacements:
            cell.source = replacements[gid]
            found.add(gid)
    missing = set(replacements) - found
    assert not missing, f"no cell with grade_id {sorted(missing)}"
    return nb


def _make_course(base: Path, assignment: str):
    (base / "grading").mkdir(parents=True)
    shutil.copy(ROOT / "grading" / "nbgrader_config.py", base / "grading" / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions", base / "solutions")
    course.nbgrader(["generate_assignment", assignment, "--force"], root=base)


def _grade_shard(base: Path, assignment: str, students: dict, nb_name: str):
    _make_course(base, assignment)
    released = base / "notebooks" / assignment
    for sid, nb in students.items():
        d = base / "grading" / "submitted" / sid / assignment
        # a student submits the whole released folder: its support files too
        shutil.copytree(released, d, ignore=shutil.ignore_patterns("*.ipynb"))
        if isinstance(nb, (str, bytes)):
            (d / nb_name).write_text(nb if isinstance(nb, str) else nb.decode())
        else:
            nbformat.write(nb, str(d / nb_name))
    proc = course.nbgrader(["autograde", assignment, "--force"], root=base, check=False)
    return _scores(base, assignment, list(students), nb_name.removesuffix(".ipynb")), proc


def _scores(base, assignment, students, notebook):
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(f"sqlite:///{base / 'grading' / 'gradebook.db'}") as gb:
        for sid in students:
            cells = {}
            try:
                nb = gb.find_submission_notebook(notebook, assignment, sid)
            except MissingEntry:
                out[sid] = None
                continue
            for g in nb.grades:
                cells[g.name] = CellScore(g.name, g.score, g.max_score)
            out[sid] = cells
    return out


def autograde_class(assignment, submissions, shards=2):
    """Autograde ``{student_id: notebook}``; return ``{student_id: {grade_id: CellScore}}``.

    A student whose notebook nbgrader could not grade maps to ``None``.
    """
    nb_name = notebook_path(assignment).name
    items = list(submissions.items())
    shards = max(1, min(shards, len(items)))
    parts = [dict(items[i::shards]) for i in range(shards)]
    results, logs = {}, []
    with tempfile.TemporaryDirectory(prefix="regloss-grade-") as tmp:
        with ThreadPoolExecutor(shards) as ex:
            futs = [ex.submit(_grade_shard, Path(tmp) / f"shard{i}", assignment, part, nb_name)
                    for i, part in enumerate(parts)]
            for f in futs:
                scores, proc = f.result()
                results.update(scores)
                logs.append(proc.stdout + proc.stderr)
    return results, "\n".join(logs)


def exercise_score(cells, exercise):
    """(score, max) over the test cells ``test_<exercise>__*``."""
    s = m = 0.0
    for gid, c in cells.items():
        mt = TEST_CELL.match(gid)
        if mt and mt.group("function") == exercise:
            s += c.score or 0.0
            m += c.max_score
    return s, m


def auto_score(cells):
    """(score, max) over every autograded test cell."""
    s = m = 0.0
    for gid, c in cells.items():
        if TEST_CELL.match(gid):
            s += c.score or 0.0
            m += c.max_score
    return s, m


def exercises(assignment):
    """The graded exercises (functions) of an assignment, from its test-cell ids."""
    found = []
    for cell in read_source(assignment).cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        mt = TEST_CELL.match(gid)
        if mt and mt.group("function") not in found:
            found.append(mt.group("function"))
    return found



def judge_class(assignment, submissions, timeout=60, only=None):
    """Judge ``{student_id: notebook}`` with the out-of-kernel judge, as a library call:
    one answer process for the whole class (reset between students; the catalogue's
    notebooks do not tamper with it) and the test cells run in this process.

    ``only`` (``{student_id: set of grade ids}``) limits a student to those test cells.
    Returns ``({student_id: {grade_id: CellScore}}, {student_id: {grade_id: message}})``
    (points when the judge passed the cell; the judge's message where it failed).
    """
    import os
    import sys

    from regloss.grading.judge import client as jclient
    from regloss.grading.judge import judging as judge
    from regloss.grading.sandboxed.policy import policy_for

    source_path = notebook_path(assignment)
    source = json.loads(source_path.read_text(encoding="utf-8"))
    points = {c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"].get("points", 0))
              for c in source["cells"] if nbcells.is_test(c)}
    out, messages = {}, {}
    cwd, path = os.getcwd(), list(sys.path)
    before = set(sys.modules)
    with tempfile.TemporaryDirectory(prefix="regloss-judge-") as tmp:
        work, answer = Path(tmp) / "judge", Path(tmp) / "answer"
        shutil.copytree(source_path.parent, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        shutil.copytree(source_path.parent, answer, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        client = jclient.AnswerClient(str(answer), policy_for(assignment, source.get("metadata")).blocked, timeout)
        os.chdir(work)
        sys.path.insert(0, str(work))
        try:
            for sid, nb in submissions.items():
                client.reset()
                student = json.loads(nbformat.writes(nb)) if not isinstance(nb, dict) else nb
                verdicts = judge.judge_notebook(source, student, client, timeout, only=(only or {}).get(sid))
                out[sid] = {v.grade_id: CellScore(v.grade_id, points[v.grade_id] if v.passed else 0.0,
                                                  points[v.grade_id]) for v in verdicts}
                messages[sid] = {v.grade_id: v.message for v in verdicts if not v.passed}
        finally:
            client.stop()
            os.chdir(cwd)
            sys.path[:] = path
            for name in set(sys.modules) - before:  # the assignment's support files (losses, fits, ...)
                f = getattr(sys.modules[name], "__file__", None) or ""
                if f.startswith(tmp):
                    del sys.modules[name]
    return out, messages


def hidden_test_lines(assignment):
    """The lines (longer than 12 characters) of ``assignment``'s hidden tests, as the source holds
    them: what no page or answer a student sees may contain."""
    lines = []
    for c in read_source(assignment).cells:
        m = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", c.source, re.S)
        if m:
            lines += [ln.strip() for ln in m.group(1).splitlines() if len(ln.strip()) > 12]
    assert lines, f"{assignment} has no hidden test"
    return lines
