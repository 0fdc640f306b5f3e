"""The boundary between the parent and a worker: ``StudentJob -> StudentResult``.

The parent (:mod:`regloss.grading.run.parent`) turns each gradable submission into a
:class:`StudentJob`; a worker (:func:`regloss.grading.worker.student.grade_student`)
grades it and returns a :class:`StudentResult`. Both are self-contained values:
the job carries the student's files and (through :class:`InstructorBundle`) the
assignment's source, release and template gradebook as bytes, the result carries
the graded private gradebook and the autograded notebooks and feedback as bytes.
So a worker can run in a thread of the parent, in another local process, or on a
remote machine (a Dask worker): :meth:`StudentJob.to_bytes` /
:meth:`StudentJob.from_bytes` (and the same on the result) ship them as JSON,
never as a pickle.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from regloss.grading.settings import Settings
from regloss.grading.wire.problems import Problem


def _b64(files):
    return {k: base64.b64encode(v).decode("ascii") for k, v in files.items()}

#: The folder (beside ``autograded`` and ``feedback``) of the notebook a student's feedback page was
#: rendered from: hidden tests' source removed, the judge's result boxes in. The parent renders the page
#: again from it when written answers have been graded by hand (:mod:`regloss.grading.run.hand_feedback`).
FEEDBACK_SOURCE = "feedback-source"


def _unb64(files):
    return {k: base64.b64decode(v) for k, v in files.items()}


def read_tree(folder: Path, skip=(".ipynb_checkpoints", "__pycache__")):
    """``{relative posix path: bytes}`` of every file under ``folder``."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and not p.is_symlink() and not set(p.relative_to(folder).parts) & set(skip):
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


def write_tree(files, folder: Path):
    """Write ``{relative path: bytes}`` under ``folder`` (refusing paths that leave it)."""
    folder = Path(folder)
    for rel, data in files.items():
        dest = (folder / rel).resolve()
        if not dest.is_relative_to(folder.resolve()):
            raise ValueError(f"path leaves its folder: {rel}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


@dataclass
class InstructorBundle:
    """What every worker needs of the assignment, the same for the whole class.

    Attributes
    ----------
    assignment : str
    config : str
        The text of ``grading/nbgrader_config.py``.
    source : dict
        ``{path: bytes}`` of ``solutions/<assignment>/`` (notebooks with solutions and
        hidden tests, and the support files).
    release : dict
        ``{path: bytes}`` of the generated release (``notebooks/<assignment>/``).
    template_db : bytes
        The SQLite gradebook ``generate_assignment`` made (the source cells, hidden tests included).
    digest : str
        Identifies the source: a re-run with the same digest may skip graded students.
    hide : list of str
        Folders of this machine that student code must not see (the parent's paths).
    """

    assignment: str
    config: str
    source: dict
    release: dict
    template_db: bytes
    digest: str = ""
    hide: list = field(default_factory=list)

    def notebook_names(self):
        return sorted(k for k in self.source if k.endswith(".ipynb") and "/" not in k)

    def support_files(self):
        """The source's files other than notebooks (what autograde restores beside a submission)."""
        return {k: v for k, v in self.source.items() if not k.endswith(".ipynb")}

    def to_dict(self):
        d = asdict(self)
        d["source"], d["release"] = _b64(self.source), _b64(self.release)
        d["template_db"] = base64.b64encode(self.template_db).decode("ascii")
        return d

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["source"], d["release"] = _unb64(d["source"]), _unb64(d["release"])
        d["template_db"] = base64.b64decode(d["template_db"])
        return cls(**d)

    def to_bytes(self):
        return json.dumps(self.to_dict()).encode()

    @classmethod
    def from_bytes(cls, data, cache=None):
        """The bundle of :meth:`to_bytes`; with a ``cache`` dict, the same bytes are decoded
        once (a handful of the latest bundles are kept)."""
        if cache is None:
            return cls.from_dict(json.loads(data))
        key = hashlib.sha256(data).hexdigest()
        if key not in cache:
            while len(cache) >= 4:
                cache.pop(next(iter(cache)))
            cache[key] = cls.from_dict(json.loads(data))
        return cache[key]


@dataclass
class StudentJob:
    """Grade one student: everything a worker needs, as values.

    Attributes
    ----------
    student_id : str
    files : dict
        ``{path: bytes}``: the submission as it goes into nbgrader's
        ``submitted/<student>/<assignment>/`` folder (notebooks under their expected names).
    bundle : InstructorBundle
    settings : Settings
        The run's settings (:mod:`regloss.grading.settings`).
    problems : list of Problem
        Found at intake (kept in the result).
    digest, key : str
        The submission's hash, and the key under which the parent records the result.
    index : int
        The job's number in the run (names its scratch folder).
    """

    student_id: str
    files: dict
    bundle: InstructorBundle
    settings: Settings = field(default_factory=Settings)
    problems: list = field(default_factory=list)
    digest: str = ""
    key: str = ""
    index: int = 0

    def to_bytes(self, with_bundle=True):
        """The job as JSON bytes; ``with_bundle=False`` leaves the assignment's files out
        (they travel once for the class; give them back to :meth:`from_bytes`)."""
        d = {"student_id": self.student_id, "files": _b64(self.files),
             "settings": self.settings.to_dict(), "problems": [p.to_dict() for p in self.problems],
             "digest": self.digest, "key": self.key, "index": self.index}
        if with_bundle:
            d["bundle"] = self.bundle.to_dict()
        return json.dumps(d).encode()

    @classmethod
    def from_bytes(cls, data, bundle=None):
        d = json.loads(data)
        if bundle is None:
            bundle = InstructorBundle.from_dict(d["bundle"])
        return cls(d["student_id"], _unb64(d["files"]), bundle,
                   Settings.from_dict(d["settings"]), [Problem.from_dict(p) for p in d["problems"]],
                   d["digest"], d["key"], d["index"])


@dataclass
class CellVerdict:
    """The judge's verdict on one test cell.

    Attributes
    ----------
    grade_id : str
    passed : bool
    message : str
        Why it failed (the assertion's message, or the exception's type and message),
        with no line of the test's source; empty when it passed.
    seconds : float
    judged : bool
        False when the test cell cannot be checked outside the kernel (it passes the
        student's function something that cannot cross, such as a lambda of its own):
        the student's kernel's verdict then stands, and can be forged.
    """

    grade_id: str
    passed: bool
    message: str = ""
    seconds: float = 0.0
    judged: bool = True


@dataclass
class StudentResult:
    """What grading one student produced.

    Attributes
    ----------
    student_id : str
    problems : list of Problem
    graded : bool
        Autograded (False: scored 0 without running).
    feedback : str
        Path of the feedback HTML relative to the run's folder (set by the parent).
    seconds : float
    digest, key : str
    verdicts : list of CellVerdict
        The judge's, one per test cell (empty without the judge).
    judge_seconds : float
        Time the judge took (its share of ``seconds``).
    gradebook : bytes
        The private SQLite gradebook the student was graded in (the judge's verdicts applied).
    outputs : dict
        ``{"autograded/<notebook>" | "feedback/<file>": bytes}``.
    """

    student_id: str
    problems: list = field(default_factory=list)
    graded: bool = False
    feedback: str = ""
    seconds: float = 0.0
    digest: str = ""
    key: str = ""
    verdicts: list = field(default_factory=list)
    judge_seconds: float = 0.0
    gradebook: bytes = b""
    outputs: dict = field(default_factory=dict)

    def summary(self):
        """The JSON-able record the parent keeps in ``state.jsonl`` (no bytes)."""
        return {"student_id": self.student_id, "problems": [p.to_dict() for p in self.problems],
                "graded": self.graded, "feedback": self.feedback, "seconds": self.seconds,
                "digest": self.digest, "key": self.key, "verdicts": [asdict(v) for v in self.verdicts],
                "judge_seconds": self.judge_seconds}

    @classmethod
    def from_summary(cls, d):
        return cls(d["student_id"], [Problem.from_dict(p) for p in d.get("problems", [])], d.get("graded", False),
                   d.get("feedback", ""), d.get("seconds", 0.0), d.get("digest", ""), d.get("key", ""),
                   [CellVerdict(**v) for v in d.get("verdicts", [])], d.get("judge_seconds", 0.0))

    def to_bytes(self):
        d = self.summary()
        d["gradebook"] = base64.b64encode(self.gradebook).decode("ascii")
        d["outputs"] = _b64(self.outputs)
        return json.dumps(d).encode()

    @classmethod
    def from_bytes(cls, data):
        d = json.loads(data)
        res = cls.from_summary(d)
        res.gradebook = base64.b64decode(d["gradebook"])
        res.outputs = _unb64(d["outputs"])
        return res
