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
* :func:`read_private` turns a student's private gradebook into plain data (a
  :class:`StudentGrades`, JSON-able: it crosses machines as bytes), and
  :class:`MainGradebook` merges many of those over one connection, each batch in
  one transaction.

The main gradebook may be SQLite (the default) or PostgreSQL
(``postgresql://USER@HOST:PORT/DB``, driven by psycopg 3: :func:`engine_url`
spells it ``postgresql+psycopg://`` for SQLAlchemy). Several runs may share one
server: registering an assignment and merging students take a PostgreSQL
advisory lock, so two runs of different assignments merging at the same time
lose nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from regloss import course
from regloss.course import CourseError
from regloss.course.nbgrader_tool import generate_assignment, sqlite_url

#: Key of the PostgreSQL advisory lock that serialises registration and merges across runs.
ADVISORY_LOCK = 0x7265676C6F7373  # "regloss"


def engine_url(db_url: str) -> str:
    """The SQLAlchemy URL for a gradebook URL: ``postgresql://`` and ``postgres://``
    become ``postgresql+psycopg://`` (psycopg 3, a dependency; SQLAlchemy's default
    PostgreSQL driver, psycopg2, is not installed); other URLs are returned as given."""
    for prefix in ("postgresql://", "postgres://"):
        if db_url.startswith(prefix):
            return "postgresql+psycopg://" + db_url[len(prefix):]
    return db_url


_USER_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):([^@]*)@")


def shown_url(db_url: str) -> str:
    """``db_url`` as it may be printed or logged: a password in it becomes ``***``
    (``postgresql://grader:***@host/course``)."""
    return _USER_PASSWORD.sub(r"\1:***@", db_url)


def without_password(text: str, db_url: str) -> str:
    """``text`` (a driver's error, a tool's log) with ``db_url``'s password, as
    written in the URL and decoded, replaced by ``***`` wherever it appears."""
    from urllib.parse import unquote

    m = _USER_PASSWORD.match(db_url)
    text = text.replace(db_url, shown_url(db_url))
    if m and m.group(2):
        for secret in {m.group(2), unquote(m.group(2))}:
            text = text.replace(secret, "***")
    return text


def is_postgres(db_url: str) -> bool:
    return engine_url(db_url).startswith("postgresql+")


@contextlib.contextmanager
def registration_lock(db_url):
    """Hold a PostgreSQL session-level advisory lock (nothing for other databases)
    while the gradebook's schema is created or an assignment registered: nbgrader
    creates tables and rows with check-then-insert, which two runs must not
    interleave."""
    if not is_postgres(db_url):
        yield
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(engine_url(db_url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK})
    finally:
        engine.dispose()


def sqlite_file(db_url):
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
    ok, log = generate_assignment(area, assignment, sqlite_url(template))
    if not ok or not template.is_file():
        raise CourseError(f"nbgrader generate_assignment {assignment} failed:\n{log}")
    stamp.write_text(digest)
    return ia


def prepare_main_gradebook(ia: InstructorArea, db_url: str):
    """Make sure the main gradebook knows the assignment exactly as generated."""
    from nbgrader.api import Gradebook, MissingEntry

    marker = ia.root / ("main-" + hashlib.sha256(db_url.encode()).hexdigest()[:16])
    target = sqlite_file(db_url)
    if target is not None and not target.exists():
        # a new SQLite gradebook: the template is exactly what generate_assignment makes
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ia.template_db, target)
        marker.write_text(ia.source_digest)
        return
    url = engine_url(db_url)
    try:
        with registration_lock(db_url):
            with Gradebook(url) as gb:
                try:
                    gb.find_assignment(ia.assignment)
                    known = True
                except MissingEntry:
                    known = False
            if known and marker.is_file() and marker.read_text() == ia.source_digest:
                return
            # generate_assignment also rewrites the private release; it is identical
            ok, log = generate_assignment(ia.root, ia.assignment, url)
    except CourseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad URL, an unreachable server
        raise CourseError(without_password(f"cannot open the gradebook {db_url}: {exc}", db_url)) from exc
    if not ok:
        raise CourseError(without_password(f"registering {ia.assignment} in the gradebook {db_url} failed:\n{log}",
                                           db_url))
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


@dataclass
class StudentGrades:
    """One student's autograded grades and comments, as plain data (JSON-able).

    ``grades`` holds ``[notebook, cell, auto_score, needs_manual_grade]`` rows,
    ``comments`` ``[notebook, cell, auto_comment]`` rows, ``timestamp`` the
    submission's time in ISO format (or None).
    """

    timestamp: str | None = None
    grades: list = field(default_factory=list)
    comments: list = field(default_factory=list)

    def to_json(self):
        return {"timestamp": self.timestamp, "grades": self.grades, "comments": self.comments}

    @classmethod
    def from_json(cls, d):
        return cls(d.get("timestamp"), [list(g) for g in d.get("grades", [])],
                   [list(c) for c in d.get("comments", [])])


def read_private(private_db, assignment, student_id):
    """``student_id``'s autograded grades from the private SQLite gradebook the
    student was graded in, or None when it holds no autograded submission.

    Returns
    -------
    StudentGrades or None
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(sqlite_url(private_db)) as src:
        try:
            psub = src.find_submission(assignment, student_id)
        except MissingEntry:
            return None
        out = StudentGrades(psub.timestamp.isoformat() if psub.timestamp else None)
        for pnb in psub.notebooks:
            for g in pnb.grades:
                out.grades.append([pnb.name, g.name, g.auto_score, bool(g.needs_manual_grade)])
            for c in pnb.comments:
                out.comments.append([pnb.name, c.name, c.auto_comment])
    if not any(g[2] is not None for g in out.grades):
        return None  # the submission exists but was never autograded
    return out


class MainGradebook:
    """The class's gradebook, opened once for a whole run; merges students in batches.

    Each call of :meth:`merge` is one transaction (on PostgreSQL it first takes the
    advisory lock :data:`ADVISORY_LOCK`, so concurrent runs never insert the same
    student twice). Manual scores already given are kept.

    Parameters
    ----------
    db_url : str
        A SQLAlchemy URL (``sqlite:///...``, ``postgresql://...``).
    """

    def __init__(self, db_url):
        from nbgrader.api import Gradebook

        self.db_url = db_url
        with registration_lock(db_url):  # nbgrader may create the schema and the course row
            self.gb = Gradebook(engine_url(db_url))

    def close(self):
        self.gb.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def merge(self, assignment, items):
        """Write each ``(student_id, StudentGrades or None)`` of ``items``, in one
        transaction; None records a submission that could not run (every cell 0)."""
        import datetime

        from sqlalchemy import text

        db = self.gb.db
        try:
            if is_postgres(self.db_url):
                db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
            for student_id, grades in items:
                sub = _ensure_submission(self.gb, assignment, student_id)
                if grades is None:
                    for nb in sub.notebooks:
                        for g in nb.grades:
                            g.auto_score, g.needs_manual_grade = 0.0, False
                        for c in nb.comments:
                            c.auto_comment = None
                    continue
                got = {(n, c): (score, needs) for n, c, score, needs in grades.grades}
                comments = {(n, c): comment for n, c, comment in grades.comments}
                if grades.timestamp:
                    sub.timestamp = datetime.datetime.fromisoformat(grades.timestamp)
                for nb in sub.notebooks:
                    for g in nb.grades:
                        if (nb.name, g.name) in got:
                            g.auto_score, needs = got[(nb.name, g.name)]
                            g.needs_manual_grade = needs and g.manual_score is None
                        else:  # a notebook that was not submitted
                            g.auto_score, g.needs_manual_grade = 0.0, False
                    for c in nb.comments:
                        c.auto_comment = comments.get((nb.name, c.name))
            db.commit()
        except Exception:
            db.rollback()
            raise


def merge_student(db_url, private_db, assignment, student_id):
    """Copy ``student_id``'s autograded submission from ``private_db`` into the main
    gradebook, in one transaction. Manual scores already given in the main
    gradebook are kept.

    Returns
    -------
    bool
        False when the private gradebook holds no autograded submission.
    """
    grades = read_private(private_db, assignment, student_id)
    if grades is None:
        return False
    with MainGradebook(db_url) as main:
        main.merge(assignment, [(student_id, grades)])
    return True


def record_zero(db_url, assignment, student_id):
    """Record a submission that could not be run: every cell scores 0 (as nbgrader
    does for a missing notebook), in one transaction."""
    with MainGradebook(db_url) as main:
        main.merge(assignment, [(student_id, None)])


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
    with Gradebook(engine_url(db_url)) as gb:
        for sid in student_ids:
            try:
                sub = gb.find_submission(assignment, sid)
            except MissingEntry:
                continue
            out[sid] = [CellResult(nb.name, g.name, float(g.score or 0.0), float(g.max_score),
                                   bool(g.needs_manual_grade), g.cell.cell_type == "code")
                        for nb in sub.notebooks for g in nb.grades]
    return out
