"""The instructor area, the main gradebook, and merging one student's grades into it.

* :func:`prepare_instructor_area` runs ``nbgrader generate_assignment`` once in
  a private copy of the course under ``DIR/instructor/`` (students never see
  it): it yields the released notebook(s) and a *template* SQLite gradebook that
  holds the assignment's source cells (hidden tests included).
* :func:`prepare_main_gradebook` registers the assignment in the main gradebook
  (SQLite under ``DIR`` by default, or any SQLAlchemy URL) with the same
  ``generate_assignment``.
* :func:`merge_student` copies one student's grades and comments from the
  private gradebook they were autograded in into the main gradebook, in a single
  transaction; :func:`record_zero` records a submission that could not run.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from regloss import course
from regloss.course import CourseError


def sqlite_url(path):
    return "sqlite:///" + str(Path(path).resolve())


def _sqlite_path(db_url):
    """The file of a ``sqlite:///`` URL, else None."""
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(db_url[len("sqlite:///"):])
    return None


def _tree_digest(folder: Path):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@dataclass
class InstructorArea:
    root: Path  # a private course: grading/nbgrader_config.py, solutions/<a>, notebooks/<a>
    assignment: str
    template_db: Path
    source_digest: str

    @property
    def release(self):
        return self.root / "notebooks" / self.assignment

    @property
    def source(self):
        return self.root / "solutions" / self.assignment

    def notebook_names(self):
        return sorted(p.name for p in self.source.glob("*.ipynb"))


def prepare_instructor_area(course_root: Path, assignment: str, out: Path) -> InstructorArea:
    """Generate the assignment once in ``out/instructor`` (re-done only when the source changed)."""
    src = course_root / "solutions" / assignment
    digest = hashlib.sha256((_tree_digest(src) + (course_root / course.CONFIG).read_text()).encode()).hexdigest()
    area = out / "instructor"
    stamp = area / "source.sha256"
    template = area / "grading" / "template.db"
    ia = InstructorArea(area, assignment, template, digest)
    if stamp.is_file() and stamp.read_text() == digest and template.is_file() and ia.release.is_dir():
        return ia
    if area.exists():
        shutil.rmtree(area)
    (area / "grading").mkdir(parents=True)
    shutil.copy(course_root / course.CONFIG, area / course.CONFIG)
    shutil.copytree(src, area / "solutions" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    proc = course.nbgrader(["generate_assignment", assignment, "--force",
                            f"--CourseDirectory.db_url={sqlite_url(template)}"], root=area, check=False)
    if proc.returncode != 0 or not template.is_file():
        raise CourseError(f"nbgrader generate_assignment {assignment} failed:\n{proc.stdout}\n{proc.stderr}")
    stamp.write_text(digest)
    return ia


def prepare_main_gradebook(ia: InstructorArea, db_url: str):
    """Make sure the main gradebook knows the assignment exactly as generated."""
    from nbgrader.api import Gradebook, MissingEntry

    marker = ia.root / ("main-" + hashlib.sha256(db_url.encode()).hexdigest()[:16])
    target = _sqlite_path(db_url)
    if target is not None and not target.exists():
        # a new SQLite gradebook: the template is exactly what generate_assignment makes
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ia.template_db, target)
        marker.write_text(ia.source_digest)
        return
    try:
        with Gradebook(db_url) as gb:
            try:
                gb.find_assignment(ia.assignment)
                known = True
            except MissingEntry:
                known = False
    except Exception as exc:  # noqa: BLE001 - a bad URL, an unreachable server
        raise CourseError(f"cannot open the gradebook {db_url}: {exc}") from exc
    if known and marker.is_file() and marker.read_text() == ia.source_digest:
        return
    # generate_assignment also rewrites the private release; it is identical
    proc = course.nbgrader(["generate_assignment", ia.assignment, "--force",
                            f"--CourseDirectory.db_url={db_url}"], root=ia.root, check=False)
    if proc.returncode != 0:
        raise CourseError(f"registering {ia.assignment} in the gradebook {db_url} failed:\n{proc.stdout}\n{proc.stderr}")
    marker.write_text(ia.source_digest)


def _ensure_submission(gb, assignment, student_id):
    """The main gradebook's submission of ``student_id``, created (not committed) if missing."""
    from nbgrader.api import Comment, Grade, MissingEntry, Student, SubmittedAssignment, SubmittedNotebook

    student = gb.db.query(Student).filter(Student.id == student_id).one_or_none()
    if student is None:
        student = Student(id=student_id)
        gb.db.add(student)
    try:
        return gb.find_submission(assignment, student_id)
    except MissingEntry:
        pass
    with gb.db.no_autoflush:
        sub = SubmittedAssignment(assignment=gb.find_assignment(assignment), student=student)
        gb.db.add(sub)
        for notebook in sub.assignment.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=sub)
            gb.db.add(nb)
            for cell in notebook.grade_cells:
                gb.db.add(Grade(cell_id=cell.id, notebook=nb))
            for cell in notebook.solution_cells:
                gb.db.add(Comment(cell_id=cell.id, notebook=nb))
            for cell in notebook.task_cells:
                gb.db.add(Comment(cell_id=cell.id, notebook=nb))
                gb.db.add(Grade(cell_id=cell.id, notebook=nb))
    gb.db.flush()
    return sub


def merge_student(db_url, private_db, assignment, student_id):
    """Copy ``student_id``'s autograded submission from ``private_db`` into the main
    gradebook, in one transaction. Manual scores already given in the main
    gradebook are kept.

    Returns
    -------
    bool
        False when the private gradebook holds no autograded submission.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(sqlite_url(private_db)) as src:
        try:
            psub = src.find_submission(assignment, student_id)
        except MissingEntry:
            return False
        grades, comments = {}, {}
        for pnb in psub.notebooks:
            for g in pnb.grades:
                grades[(pnb.name, g.name)] = (g.auto_score, g.needs_manual_grade)
            for c in pnb.comments:
                comments[(pnb.name, c.name)] = c.auto_comment
        if not any(v[0] is not None for v in grades.values()):
            return False  # the submission exists but was never autograded
        timestamp = psub.timestamp
    with Gradebook(db_url) as gb:
        try:
            sub = _ensure_submission(gb, assignment, student_id)
            sub.timestamp = timestamp
            for nb in sub.notebooks:
                for g in nb.grades:
                    if (nb.name, g.name) in grades:
                        g.auto_score, needs = grades[(nb.name, g.name)]
                        g.needs_manual_grade = needs and g.manual_score is None
                    else:  # a notebook that was not submitted
                        g.auto_score, g.needs_manual_grade = 0.0, False
                for c in nb.comments:
                    c.auto_comment = comments.get((nb.name, c.name))
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise
    return True


def record_zero(db_url, assignment, student_id):
    """Record a submission that could not be run: every cell scores 0 (as nbgrader
    does for a missing notebook), in one transaction."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        try:
            sub = _ensure_submission(gb, assignment, student_id)
            for nb in sub.notebooks:
                for g in nb.grades:
                    g.auto_score, g.needs_manual_grade = 0.0, False
                for c in nb.comments:
                    c.auto_comment = None
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise


@dataclass
class CellResult:
    notebook: str
    name: str
    score: float
    max_score: float
    needs_manual_grade: bool
    is_test: bool  # an autograded code cell (a test), not a written answer


def class_cells(db_url, assignment, student_ids):
    """``{student: [CellResult]}`` from the main gradebook, one session for the class;
    students without a submission are left out."""
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(db_url) as gb:
        for sid in student_ids:
            try:
                sub = gb.find_submission(assignment, sid)
            except MissingEntry:
                continue
            out[sid] = [CellResult(nb.name, g.name, float(g.score or 0.0), float(g.max_score),
                                   bool(g.needs_manual_grade), g.cell.cell_type == "code")
                        for nb in sub.notebooks for g in nb.grades]
    return out
