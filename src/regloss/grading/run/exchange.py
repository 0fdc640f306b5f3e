"""Grading straight from nbgrader's exchange (``regloss grade <a> --exchange DIR --course ID``).

nbgrader 0.9's own layout (``nbgrader/exchange/default/``):

* a student's ``submit`` writes ``DIR/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/``
  with the notebooks, ``timestamp.txt`` and ``submission_secret.txt``, and keeps a copy
  (with the same secret) in the student's cache;
* ``release_feedback`` puts a notebook's feedback at ``DIR/<course>/feedback/<hash>.html``,
  ``hash = notebook_hash(secret=<the submission's secret>, notebook_id=<notebook name>)``; the
  folder is mode 0711 (nobody but its owner lists it), so only who holds the secret finds
  the file: the student's ``fetch_feedback`` computes the hash from its cache.

:func:`collect` copies the newest submission of each student (regular files only, walked
by descriptors so that no link is followed, the secret stays in the exchange) into ``<out>/exchange/<student>/``, a
folder per student as :func:`regloss.grading.run.command.grade` takes, and writes
``<out>/exchange.json`` (the submission folder and timestamp of each student collected).
:func:`release_feedback` reads the feedback the run wrote
(``<out>/feedback/<student>/<assignment>/*.html``, as it is, nothing is regenerated) and
publishes it under nbgrader's hash. :func:`grade_from_exchange` does the three.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from regloss.course import CourseError, find_root
from regloss.course.hub import check_course
from regloss.grading.run import intake

MANIFEST = "exchange.json"
COLLECTED = "exchange"
SECRET, TIMESTAMP = "submission_secret.txt", "timestamp.txt"
#: A student id nbgrader's exchange can carry and a folder can be named after.
STUDENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]*$")
MAX_FILE_BYTES = intake.MAX_NOTEBOOK_BYTES  # a file over this is not copied (intake refuses such a notebook)
FEEDBACK_DIR_MODE = 0o711  # nbgrader's release_feedback: the owner lists it, others only open a known name


@dataclass
class Collected:
    """One student's newest submission in the exchange."""

    student_id: str
    folder: Path  # DIR/<course>/inbound/<student>+<assignment>+<timestamp>+<random>
    timestamp: str


def _owner(path: Path) -> str | None:
    import pwd

    try:
        return pwd.getpwuid(path.lstat().st_uid).pw_name
    except KeyError:
        return None


def submissions(exchange, course: str, assignment: str, check_owner: bool = True):
    """The newest submission of each student of ``assignment`` in the exchange's inbound, and
    the reasons others were skipped. A submission whose folder is not owned by the Unix user
    it names is skipped when ``check_owner`` (nbgrader only warns: here another student's
    name would put their feedback in the hands of who wrote the folder)."""
    from nbgrader.utils import parse_utc

    inbound = Path(exchange) / check_course(course) / "inbound"
    if not inbound.is_dir():
        raise CourseError(f"no inbound folder {inbound}: release the assignment to the exchange first "
                          "(nbgrader release_assignment) and let students submit")
    newest: dict[str, tuple] = {}
    skipped = []
    for path in inbound.iterdir():
        parts = path.name.rsplit("+", 3)
        if len(parts) < 3 or parts[1] != assignment:
            continue
        student, ts = parts[0], parts[2]
        if not STUDENT.match(student) or path.is_symlink() or not path.is_dir():
            skipped.append(f"{path.name}: not a submission folder of a valid student id")
            continue
        if check_owner and _owner(path) != student:
            skipped.append(f"{path.name}: owned by {_owner(path)}, not by {student}")
            continue
        try:
            when = parse_utc(ts)
        except (ValueError, OverflowError):
            skipped.append(f"{path.name}: unreadable timestamp")
            continue
        if student not in newest or when > newest[student][0]:
            newest[student] = (when, Collected(student, path, ts))
    return [newest[s][1] for s in sorted(newest)], skipped


def _open_regular(name, dir_fd=None) -> int | None:
    """A read-only descriptor of ``name`` if it is a regular file (never through a link, never
    blocking on a fifo), else None."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _copy_regular(src: Path, dest: Path) -> list[str]:
    """Copy the regular files under ``src`` to ``dest``: walked by descriptors (a folder a student
    swaps for a link while this runs is not followed), never a link, a device or a fifo, no file
    over the size intake takes for a notebook; nbgrader's own files stay behind. Returns what
    was left out."""
    dest.mkdir(parents=True)
    left_out = []
    for dirpath, _dirs, filenames, dir_fd in os.fwalk(src, follow_symlinks=False):
        rel = Path(dirpath).relative_to(src)
        for name in filenames:
            if rel == Path(".") and name in (SECRET, TIMESTAMP):
                continue
            fd = _open_regular(name, dir_fd)
            if fd is None:
                left_out.append(f"{rel / name}: not a regular file")
                continue
            with os.fdopen(fd, "rb") as f:
                if os.fstat(f.fileno()).st_size > MAX_FILE_BYTES:
                    left_out.append(f"{rel / name}: over {MAX_FILE_BYTES // 10**6} MB")
                    continue
                (dest / rel).mkdir(parents=True, exist_ok=True)
                with open(dest / rel / name, "wb") as out:
                    shutil.copyfileobj(f, out)
    return left_out


def _read_secret(path: Path) -> str | None:
    fd = _open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read(4096).decode("utf-8", "replace")


def collect(exchange, course: str, assignment: str, out, check_owner: bool = True):
    """Copy each student's newest submission to ``out/exchange/<student>/`` (the folder made
    anew) and write ``out/exchange.json``; returns the folder, what was collected and the
    reasons for what was skipped."""
    found, skipped = submissions(exchange, course, assignment, check_owner)
    if not found:
        raise CourseError(f"no submission of {assignment} in {Path(exchange) / course / 'inbound'}"
                          + (f" ({'; '.join(skipped)})" if skipped else ""))
    out = Path(out)
    dest = out / COLLECTED
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for sub in found:
        skipped += [f"{sub.folder.name}/{why}" for why in _copy_regular(sub.folder, dest / sub.student_id)]
    manifest = {"exchange": str(Path(exchange).resolve()), "course": course, "assignment": assignment,
                "students": {s.student_id: {"submission": str(s.folder), "timestamp": s.timestamp} for s in found}}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return dest, found, skipped


def _notebook_ids(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.ipynb") if stat.S_ISREG(p.lstat().st_mode))


def feedback_names(out, manifest: dict | None = None) -> dict[str, dict[str, Path]]:
    """``{student: {file name in DIR/<course>/feedback: the run's feedback HTML}}`` for every
    collected student the run wrote feedback for (a student not graded has the run's plain
    ``feedback.html``, published under each of their notebooks)."""
    from nbgrader.utils import notebook_hash

    out = Path(out)
    manifest = manifest or json.loads((out / MANIFEST).read_text())
    names: dict[str, dict[str, Path]] = {}
    for student, info in manifest["students"].items():
        submitted = Path(info["submission"])
        secret = _read_secret(submitted / SECRET)
        if not secret:
            continue  # a submission of an nbgrader before 0.7 (no secret): not supported
        fb = out / "feedback" / student / manifest["assignment"]
        htmls = {p.stem: p for p in fb.glob("*.html")}
        for nid in _notebook_ids(submitted):
            html = htmls.get(nid) or (htmls["feedback"] if len(htmls) == 1 and "feedback" in htmls else None)
            if html is not None:
                names.setdefault(student, {})[notebook_hash(secret=secret, notebook_id=nid) + ".html"] = html
    return names


def release_feedback(out) -> list[str]:
    """Publish the run's feedback of every collected student in ``DIR/<course>/feedback/``
    under nbgrader's hash (copied then renamed, so a student never fetches half a file);
    returns the students released. Run as root, the folder and files get the owner of the
    course's folder (the instructor who released the assignment)."""
    out = Path(out)
    manifest = json.loads((out / MANIFEST).read_text())
    course_dir = Path(manifest["exchange"]) / manifest["course"]
    dest = course_dir / "feedback"
    owner = course_dir.stat() if course_dir.is_dir() else None
    if not dest.exists() and not dest.is_symlink():
        dest.mkdir(parents=True)
        os.chmod(dest, FEEDBACK_DIR_MODE)
        if owner and os.geteuid() == 0:
            os.chown(dest, owner.st_uid, owner.st_gid)
    _check_private(course_dir, dest)
    released = []
    for student, files in feedback_names(out, manifest).items():
        for name, html in files.items():
            tmp = dest / f".{name}.tmp"
            shutil.copyfile(html, tmp)
            os.chmod(tmp, 0o644)
            if owner and os.geteuid() == 0:
                os.chown(tmp, owner.st_uid, owner.st_gid)
            os.replace(tmp, dest / name)
        released.append(student)
    return released


def _check_private(course_dir: Path, dest: Path):
    """Refuse to publish where others could list or write: the course's folder and its feedback
    folder must be real folders, neither writable by group or others, and the feedback folder
    not readable (listable) by them (nbgrader makes it 0711)."""
    for d, forbidden in ((course_dir, 0o022), (dest, 0o066)):
        st = d.lstat()
        if not stat.S_ISDIR(st.st_mode) or stat.S_IMODE(st.st_mode) & forbidden:
            raise CourseError(f"{d} is not a folder only its owner can {'list or ' if d == dest else ''}write "
                              f"(mode {oct(stat.S_IMODE(st.st_mode))}): feedback not released")


def default_out(assignment: str, out=None, root=None) -> Path:
    """The run's folder as ``regloss grade`` chooses it."""
    if out:
        return Path(out).resolve()
    return (Path(root) if root else find_root()) / "grading" / "runs" / assignment


def grade_from_exchange(assignment: str, exchange, course: str, out=None, check_owner: bool = True, **grade_args):
    """Collect the newest submission of each student from the exchange, grade them with
    :func:`regloss.grading.run.command.grade`, and release their feedback through the
    exchange; returns the summary to print."""
    from regloss.grading.run.command import grade

    if out is None and grade_args.get("course_dir") is None:  # as grade's default run folder: the course's too
        from regloss.course import find_root
        from regloss.grading.report.course import default_course

        grade_args["course_dir"] = default_course(Path(grade_args["root"]) if grade_args.get("root") else find_root())
    out = default_out(assignment, out, grade_args.get("root"))
    folder, found, skipped = collect(exchange, course, assignment, out, check_owner)
    text = grade(assignment, str(folder), out=str(out), **grade_args)
    released = release_feedback(out)
    lines = [f"collected {len(found)} submissions of {assignment} from {Path(exchange) / course / 'inbound'}"]
    lines += [f"  skipped {why}" for why in skipped]
    lines.append(text)
    lines.append(f"\nfeedback released through the exchange for {len(released)} students "
                 f"({Path(exchange) / course / 'feedback'}): each fetches their own (Assignment List -> "
                 "Fetch Feedback, or nbgrader fetch_feedback)")
    return "\n".join(lines)
