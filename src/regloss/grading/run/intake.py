"""Reading a class's submissions, as a learning-management system exports them or as
a folder per student, from a folder or a zip.

Three layouts are told apart by :func:`detect_layout`:

* ``folders``: one sub-folder per student id, holding the notebook;
* ``canvas``: Canvas's "Download Submissions", one flat folder of files named
  ``<name>_<userid>_<submissionid>_<original name>`` (late ones
  ``<name>_LATE_<userid>_<submissionid>_<original name>``); the id is the Canvas
  user id;
* ``moodle``: Moodle's "Download all submissions", folders
  ``<Full Name>_<participantid>_assignsubmission_file_/<file>`` (or, without
  "download as folders", files ``<Full Name>_<participantid>_assignsubmission_file_<file>``);
  the id is the participant id.

An LMS export is rearranged into a folder per student id (:func:`normalise`), and
what the file names said (name, lateness) is kept in ``class.json`` beside it
(:func:`class_info`).

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
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from regloss.course import CourseError
from regloss.course import cells as nbcells
from regloss.grading import lms

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


CLASS_INFO = "class.json"
FOLDERS = "a folder per student: <student id>/<notebook>.ipynb"


def layouts() -> dict[str, str]:
    """Every layout intake knows, by name: a folder per student, and each LMS's export."""
    return {"folders": FOLDERS, **{s.name: s.layout for s in lms.LMSES}}
_JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class StudentInfo:
    """What an LMS export says about one student besides the files."""

    student_id: str
    name: str = ""
    late: bool = False
    files: list = field(default_factory=list)  # the export's file names, as found
    problems: list = field(default_factory=list)  # what the export's names left unclear, stated


def _entries(folder: Path):
    return sorted(p for p in Path(folder).iterdir()
                  if p.name not in _SKIP_DIRS and p.name not in _JUNK_FILES and not p.name.startswith("."))


def _expected_layouts():
    return "; ".join(f"{k}: {v}" for k, v in layouts().items())


def detect_layout(folder: Path) -> str:
    """Which export ``folder`` is: ``"folders"`` or an LMS's name (:data:`regloss.grading.lms.LMSES`).

    * an LMS whose exports hold only its own entries (Moodle), when any entry is one of its:
      that LMS, and every other entry is a mixture;
    * every entry a folder: ``folders``;
    * files (no folders), at least one of an LMS's form (Canvas): that LMS (the other files
      are reported as loose files);
    * folders and loose files beside them: ``folders``.

    Raises
    ------
    CourseError
        Empty, a mixture, or files that fit no layout; the message names the layouts expected.
    """
    entries = _entries(folder)
    if not entries:
        raise CourseError(f"no student folders or files in {folder} (it is empty); "
                          f"expected one of: {_expected_layouts()}")
    dirs = [p for p in entries if p.is_dir()]
    files = [p for p in entries if not p.is_dir()]
    for system in (s for s in lms.LMSES if s.every_entry):
        if any(system.parse(p.name) for p in entries):
            others = [p.name for p in entries if not system.parse(p.name)]
            if others:
                raise CourseError(
                    f"{folder} mixes {system.name.capitalize()}'s submission folders with other entries "
                    f"({', '.join(others[:5])}); expected one of: {_expected_layouts()}")
            return system.name
    if dirs and not files:
        return "folders"
    found = ", ".join(p.name + ("/" if p.is_dir() else "") for p in entries[:6])
    for system in (s for s in lms.LMSES if not s.every_entry):
        if any(system.parse(p.name) for p in files):
            if dirs:
                raise CourseError(f"{folder} mixes folders with {system.name.capitalize()}'s submission files "
                                  f"(found: {found}); expected one of: {_expected_layouts()}")
            return system.name
    if dirs:  # folders per student, and loose files beside them: the folders
        return "folders"
    raise CourseError(f"the submissions in {folder} are in no layout regloss knows (found: {found}); "
                      f"expected one of: {_expected_layouts()}")


def _safe_copy(src: Path, dest: Path):
    if src.is_symlink():
        return
    if src.is_dir():
        shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)


def normalise(folder: Path, scratch: Path):
    """A folder per student id for the export in ``folder``, and what it said of each student.

    Parameters
    ----------
    folder : Path
        The export (its top level).
    scratch : Path
        Where the folder per student is built (``scratch/students``) for an LMS export.

    Returns
    -------
    (Path, str, dict of str -> StudentInfo, list of str)
        The folder holding one sub-folder per student id, the layout, the
        students' information, and loose files that belong to no student.
    """
    layout = detect_layout(folder)
    infos: dict[str, StudentInfo]
    if layout == "folders":
        infos = {p.name: StudentInfo(p.name) for p in _entries(folder) if p.is_dir()}
        return Path(folder), layout, infos, []
    dest = Path(scratch) / "students"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    system = lms.by_name(layout)
    if system is None:
        raise CourseError(f"unknown layout {layout!r}")
    entries = [(p, system.parse(p.name)) for p in _entries(folder)]
    infos = {}
    loose: list[str] = []
    kept: dict[tuple[str, str], tuple[lms.Entry, str]] = {}  # (student, file name) -> what is graded as it
    unclaimed: list[tuple[str, list[str]]] = []  # (entry, the students it could be)
    names = known_names(e for _, e in entries)
    for p, parsed in entries:
        if parsed is None:
            loose.append(p.name)
            continue
        entry = one_reading(parsed, names)
        if entry is None:
            ids = sorted({r.student_id for r in (parsed, *parsed.readings)})
            loose.append(f"{p.name} (its name reads as participant {' or '.join(ids)}: filed under no one)")
            unclaimed.append((p.name, ids))
            continue
        info = infos.setdefault(entry.student_id, StudentInfo(entry.student_id, name=entry.name))
        info.late = info.late or entry.late
        info.files.append(p.name)
        if p.is_dir():
            _safe_copy(p, dest / entry.student_id)
        elif entry.original:
            target = dest / entry.student_id / entry.original
            key = (entry.student_id, entry.original)
            if key not in kept:
                kept[key] = (entry, p.name)
                _safe_copy(p, target)
                continue
            # two files of one name for one student: the later where the system says, else the
            # first; stated either way, and the other kept beside under another name
            first, first_name = kept[key]
            later = bool(entry.order) and entry.order > first.order
            aside = dest / entry.student_id / f"{(first if later else entry).tag or len(info.files)}-{entry.original}"
            if later:
                shutil.move(target, aside)
                _safe_copy(p, target)
                kept[key] = (entry, p.name)
            else:
                _safe_copy(p, aside)
            graded = kept[key][1]
            how = "the later one" if entry.order else "the one read first (the export does not say which is later)"
            info.problems.append(f"two files of the export are your {entry.original}; graded {how}, {graded}; "
                                 f"{p.name if graded == first_name else first_name} was not graded")
    for name, ids in unclaimed:
        for sid in ids:
            if sid in infos:
                infos[sid].problems.append(f"a file of the export ({name}) could be read as yours or as another "
                                           "student's; it was graded as no one's")
    return dest, layout, infos, loose


def known_names(entries) -> dict[str, set[str]]:
    """The names each student id goes by in the entries that read one way only."""
    names: dict[str, set[str]] = {}
    for e in entries:
        if e is not None and not e.readings:
            names.setdefault(e.student_id, set()).add(e.name)
    return names


def one_reading(entry: lms.Entry, names: dict[str, set[str]]) -> lms.Entry | None:
    """The one reading of an entry's name that agrees with the export (``names``: what
    :func:`known_names` found): a reading that gives a student id a name that id does not
    go by elsewhere is not it. None when no reading, or more than one, is left."""
    readings = [entry, *entry.readings]
    if len(readings) == 1:
        return entry
    fits = [r for r in readings if names.get(r.student_id, {r.name}) == {r.name}]
    return replace(fits[0], readings=()) if len(fits) == 1 else None


def write_class_info(path: Path, layout: str, infos: dict, loose: list):
    """Record what :func:`normalise` found (``class.json``), for the report."""
    data = {"layout": layout, "loose": loose,
            "students": {sid: {"name": i.name, "late": i.late, "files": i.files, "problems": i.problems}
                         for sid, i in infos.items()}}
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True))


def class_info(path: Path):
    """``(layout, {student_id: StudentInfo})`` from a ``class.json``; ``("folders", {})`` if absent."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return "folders", {}
    return data.get("layout", "folders"), {
        sid: StudentInfo(sid, d.get("name", ""), bool(d.get("late")), list(d.get("files", [])),
                         [str(x) for x in d.get("problems", [])])
        for sid, d in data.get("students", {}).items()}


def _is_wrapper(folder: Path) -> bool:
    """Whether a lone folder at the top of a zip wraps the export (rather than being one student's)."""
    inner = _entries(folder)
    for system in lms.LMSES:  # an LMS's export inside: a wrapper
        if system.every_entry and any(system.parse(p.name) for p in inner):
            return True
        if not system.every_entry and inner and all(not p.is_dir() for p in inner) and \
                any(system.parse(p.name) for p in inner):
            return True
    return any(c.is_dir() for c in inner) and not any(folder.glob("*.ipynb"))


def open_submissions(path, scratch: Path) -> Path:
    """The folder holding one sub-folder per student: ``path`` itself, ``path`` (a zip)
    unpacked under ``scratch``, or an LMS export (folder or zip) rearranged under
    ``scratch`` by :func:`normalise`. ``scratch/class.json`` records the layout and
    what the export said of each student (:func:`class_info`).

    A zip whose content is wrapped in one folder (as learning-management systems
    export) is descended into.

    Raises
    ------
    CourseError
        ``path`` is missing, not a folder, not a readable zip, or in no layout
        regloss knows.
    """
    path = Path(path)
    if not path.exists():
        raise CourseError(f"submissions not found: {path}")
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        root = path.resolve()
    else:
        root = _unzip(path, scratch)
    folder, layout, infos, loose = normalise(root, scratch)
    write_class_info(scratch / CLASS_INFO, layout, infos, loose)
    return folder


def _unzip(path: Path, scratch: Path) -> Path:
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
        entries = _entries(root)
        if len(entries) == 1 and entries[0].is_dir() and _is_wrapper(entries[0]):
            root = entries[0]
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
            return (f"{path.name} is {path.stat().st_size / 1e6:.0f} MB, "
                    f"more than the {MAX_NOTEBOOK_BYTES // 10**6} MB allowed")
        raw = path.read_bytes()
    except OSError as exc:
        return f"cannot read {path.name}: {exc}"
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return f"{path.name} is not text (not UTF-8), so not a notebook"
    except json.JSONDecodeError as exc:
        return f"{path.name} is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}), so not a notebook"
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
        return nbcells.grade_ids(nb.get("cells", []))
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
        sub.problems.append("no notebook submitted"
                            + (f" (found: {', '.join(others)})" if others else " (empty folder)"))
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
        cells = json.loads(chosen.read_text(encoding="utf-8"))["cells"]
        for gid, idx in sorted(nbcells.duplicated_grade_ids(cells).items()):
            which = "last" if all(nbcells.is_solution(cells[i]) for i in idx) else "first"
            sub.problems.append(f"cell {gid} appears {len(idx)} times in {name}; graded the {which} "
                                "(the others run as ordinary cells)")
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


def add_export_problems(subs: list[Submission], scratch: Path) -> None:
    """Put what the export's names left unclear for each student (``class.json`` under
    ``scratch``, :func:`open_submissions`) first among their problems."""
    _, infos = class_info(Path(scratch) / CLASS_INFO)
    for sub in subs:
        info = infos.get(sub.student_id)
        if info is not None and info.problems:
            sub.problems[:0] = info.problems


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
        nb = nbformat.read(str(src), as_version=4)
        if nbcells.keep_one_per_grade_id(nb.cells):  # nbgrader refuses a grade id twice
            nbformat.write(nb, str(dest / name))
        else:
            shutil.copy(src, dest / name)
