"""The worker/judge boundary: what the worker asks of the judge, and what the judge reports.

Both cross as JSON files: the worker writes a :class:`JudgeRequest`, starts (or forks) the
judge (:mod:`regloss.grading.judge.judging`), and reads the :class:`JudgeReport`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from regloss.grading.settings import CarriesSettings, Settings
from regloss.grading.wire.jobs import CellVerdict
from regloss.grading.wire.problems import Problem


@dataclass
class JudgeRequest(CarriesSettings):
    """What the worker asks of the judge (written as JSON).

    Attributes
    ----------
    source : str
        The source notebook (solutions and hidden tests).
    student : str
        The student's submitted notebook (read as data, never run here).
    answer_dir : str
        The answer process's working folder (the shipped support files).
    workdir : str
        The judge's working folder (a copy of the source folder: support files importable).
    report : str
        Where to write the :class:`JudgeReport`.
    assignment : str
    settings : Settings
        The run's settings: ``timeout`` seconds per student cell and per call (a test
        cell gets ``2 * timeout + 10``), ``memory_mb`` the answer process's memory cap.
    network_isolated, filesystem : bool
        What the sandbox allows (the answer process uses the mount namespace when ``filesystem``).
    hide : list of str
        Folders the answer process must not see.
    uid : int or None
        The student user the answer process becomes behind its walls.
    """

    source: str
    student: str
    answer_dir: str
    workdir: str
    report: str
    assignment: str
    settings: Settings = field(default_factory=Settings)
    network_isolated: bool = False
    filesystem: bool = False
    hide: list = field(default_factory=list)
    uid: int | None = None


@dataclass
class JudgeReport:
    """The judge's verdicts and what went wrong around them."""

    verdicts: list = field(default_factory=list)  # CellVerdict
    problems: list = field(default_factory=list)  # Problem
    seconds: float = 0.0
    student_errors: list = field(default_factory=list)  # [cell number, type, message] in the answer process

    def write(self, path):
        Path(path).write_text(json.dumps({"verdicts": [asdict(v) for v in self.verdicts],
                                          "problems": [p.to_dict() for p in self.problems],
                                          "seconds": self.seconds, "student_errors": self.student_errors}))

    @classmethod
    def read(cls, path):
        d = json.loads(Path(path).read_text())
        return cls([CellVerdict(**v) for v in d["verdicts"]], [Problem.from_dict(p) for p in d["problems"]],
                   d.get("seconds", 0.0), d.get("student_errors", []))
