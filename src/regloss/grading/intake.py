"""Reading a class's submissions: a folder (or a zip of one) with one sub-folder per student.

Everything a student can get wrong is turned into a *problem* (a sentence for
the instructor and the student) and never into an exception; only the
instructor's own mistakes (a missing folder, an unreadable zip) raise
:class:`regloss.course.CourseError`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from regloss.course import CourseError

MAX_ZIP_BYTES = 2 * 1024**3  # refuse archives that unpack to more than this
MAX_EXTRA_BYTES = 20 * 1024**2
MAX_NOTEBOOK_BYTES = 100 * 10**6  # a student's extra files copied beside the notebook
_SKIP_DIRS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}


@dataclass
class Submission:
    """One student's submission, as found on disk."""

    student_id: str
    folder: Path
    notebooks: dict = field(default_factory=dict)  # expected name -> Path of the file to grade
    problems: list = field(default_factory=list)
    gradable: bool = True  # False: no valid notebook, scored 0 without running anything
    digest: str = ""  # hash of everything the student handed in

    @property
    def has_notebook(self):
        return bool(self.notebooks)


def open_submissions(path, scratch: Path) -> Path:
    """The folder holding one sub-folder per student: ``path`` itself, or ``path``
    (a zip) unpacked under ``scratch``.

    A zip whose content is wrapped in one folder (as learning-management systems
    export) is descended into.

    Raises
    ------
    CourseError
        ``path`` is missing, not a folder, or not a readable zip.
    """
    path = Path(path)
    if not path.exists():
        raise CourseError(f"submissions not found: {path}")
    if path.is_dir():
        return path.resolve()
    if not zipfile.is_zipfile(path):
        raise CourseError(f"submissions must be a folder or a zip file; {path} is neither (or the zip is damaged)")
    dest = Path(scratch) / "unzipped"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise CourseError(f"unsafe path in zip {path}: {info.filename}")
            if total > MAX_ZIP_BYTES:
                raise CourseError(f"zip {path} unpacks to {total / 1e9:.1f} GB; refusing")
            zf.extractall(dest)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        raise CourseError(f"cannot read zip {path}: {exc}") from exc
    root = dest
    while True:
        entries = [p for p in root.iterdir() if p.name not in _SKIP_DIRS and not p.name.startswith(".")]
        dirs = [p for p in entries if p.is_dir()]
        if len(entries) == 1 and dirs and any(c.is_dir() for c in dirs[0].iterdir()) \
                and not any(dirs[0].glob("*.ipynb")):
            root = dirs[0]
        else:
            return root


def _digest(folder: Path):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        try:
            if p.is_file() and not p.is_symlink():
                h.update(str(p.relative_to(folder)).encode() + b"\0")
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
        except OSError as exc:  # unreadable: part of the digest as such
            h.update(f"{p}:{exc.errno}".encode())
    return h.hexdigest()


def _candidates(folder: Path):
    found = []
    for p in sorted(folder.rglob("*.ipynb"), key=lambda q: (len(q.parts), str(q))):
        rel = p.relative_to(folder)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]) or p.name.startswith("."):
            continue
        if p.is_file() and not p.is_symlink():
            found.append(p)
    return found


def check_notebook(path: Path):
    """``None`` when ``path`` is a notebook nbgrader can read, else the reason it is not."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return f"{path.name} is {path.stat().st_size / 1e6:.0f} MB, more than the {MAX_NOTEBOOK_BYTES // 10**6} MB allowed"
        raw = path.read_bytes()
    except OSError as exc:
        return f"cannot read {path.name}: {exc}"
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return f"{path.name} is not text (not UTF-8), so not a notebook"
    except json.JSONDecodeError as exc:
        return f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno}), so not a notebook"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return f"{path.name} is JSON but not a notebook (no list of cells)"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any failure means nbgrader cannot use it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{path.name} is not a valid notebook: {first[:200]}"
    return None


def _grade_ids(path: Path):
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])} - {None}
    except Exception:  # noqa: BLE001
        return set()


def read_student(folder: Path, expected: list, expected_ids: dict) -> Submission:
    """:func:`_read_student`, with any file-system error turned into a problem."""
    try:
        return _read_student(folder, expected, expected_ids)
    except OSError as exc:
        sub = Submission(folder.name, folder, gradable=False)
        sub.problems.append(f"the submission folder could not be read ({exc}); scored 0")
        return sub


def _read_student(folder: Path, expected: list, expected_ids: dict) -> Submission:
    """Find the notebook(s) of one student's folder.

    Parameters
    ----------
    folder : Path
        The student's folder (its name is the student id).
    expected : list of str
        The assignment's notebook file names, e.g. ``["01_l1_mse.ipynb"]``.
    expected_ids : dict
        name -> set of grade ids of that notebook (to recognise a renamed one).
    """
    sub = Submission(folder.name, folder)
    sub.digest = _digest(folder)
    cands = _candidates(folder)
    if not cands:
        others = [p.name for p in folder.rglob("*") if p.is_file()][:5]
        sub.problems.append("no notebook submitted" + (f" (found: {', '.join(others)})" if others else " (empty folder)"))
        sub.gradable = False
        return sub
    unused = list(cands)
    for name in expected:
        exact = [p for p in unused if p.name == name]
        if exact:
            chosen = exact[0]  # anywhere in the folder (e.g. <student>/<assignment>/<name>)
        else:
            if not unused:
                sub.problems.append(f"no {name} submitted")
                continue
            # the notebook sharing most cell ids with the assignment's; else the first
            chosen = max(unused, key=lambda p: len(_grade_ids(p) & expected_ids.get(name, set())))
            sub.problems.append(f"notebook submitted as {chosen.relative_to(folder)}, graded as {name}")
        unused.remove(chosen)
        reason = check_notebook(chosen)
        if reason:
            sub.problems.append(reason + "; scored 0")
            continue
        sub.notebooks[name] = chosen
    if unused:
        sub.problems.append("ignored extra notebook(s): " + ", ".join(str(p.relative_to(folder)) for p in unused))
    sub.gradable = bool(sub.notebooks)
    return sub


def read_class(root: Path, expected: list, expected_ids: dict):
    """Every student's :class:`Submission` under ``root`` (one sub-folder each), sorted
    by student id, and the loose files found beside the folders."""
    subs, loose = [], []
    for p in sorted(Path(root).iterdir()):
        if p.name in _SKIP_DIRS or p.name.startswith("."):
            continue
        if p.is_dir():
            subs.append(read_student(p, expected, expected_ids))
        else:
            loose.append(p.name)
    return subs, loose


def place(sub: Submission, dest: Path):
    """Copy a gradable submission into an nbgrader ``submitted/<student>/<assignment>``
    folder: its notebooks under their expected names, and the other small files
    of the notebook's folder."""
    dest.mkdir(parents=True, exist_ok=True)
    used = 0
    for name, src in sub.notebooks.items():
        for extra in sorted(src.parent.iterdir()):
            if extra.is_file() and not extra.is_symlink() and extra.suffix != ".ipynb":
                size = extra.stat().st_size
                if used + size <= MAX_EXTRA_BYTES:
                    shutil.copy(extra, dest / extra.name)
                    used += size
        shutil.copy(src, dest / name)
