"""The settings of a grading run: one frozen record from the command line to the worker and the judge.

``regloss grade`` and ``regloss demo`` build their command-line flags from the fields of
:class:`Settings` (:func:`add_arguments`) and read them back into one record
(:func:`from_arguments`); the parent hands the same record to every worker inside each
:class:`~regloss.grading.wire.jobs.StudentJob` (as JSON, :meth:`Settings.to_dict`), and the
worker to its judge (:class:`~regloss.grading.judge.request.JudgeRequest`) and its nbgrader
process. The run's key, under which a student's result is kept and a re-run skips them,
is made from the fields that change a grade (:meth:`Settings.grading_key`).

A new limit is one field here: its default, its flag and help, whether it changes grades
(``grades=True``) and, if it has one, its check in :meth:`Settings.validate`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Self, get_args

#: What the feedback shows of a hidden test: its result and message, or its code too.
FeedbackHidden = Literal["message", "code"]


def _setting(default: Any, flag: str | None, help: str, *, grades: bool = False, negate: bool = False,
             positive: bool = False, choices: tuple[str, ...] | None = None, metavar: str | None = None) -> Any:
    """A field of :class:`Settings` with what the command line and the run's key need to know."""
    return field(default=default, metadata={"flag": flag, "help": help, "grades": grades, "negate": negate,
                                            "positive": positive, "choices": choices, "metavar": metavar})


@dataclass(frozen=True)
class Settings:
    """The instructor's choices for one grading run."""

    workers: int = _setting(0, "--workers", "parallel workers (default: number of cores)")
    timeout: int = _setting(60, "--timeout", "seconds per cell before it is interrupted (default 60)",
                            grades=True, positive=True)
    memory_mb: int = _setting(2048, "--memory", "memory cap per kernel, in MB (default 2048; 0: none)", grades=True)
    max_output: int = _setting(100_000, "--max-output", "characters of output kept per cell", grades=True,
                               positive=True)
    # the feedback's size, not a grade: an error output is always kept (nbgrader scores by it)
    max_total_output: int = _setting(5_000_000, "--max-total-output", "characters of output kept per notebook "
                                     "(default 5,000,000), counted by the grader", positive=True)
    judge: bool = _setting(True, "--no-judge", "score test cells in the student's own kernel, as plain nbgrader "
                                               "does (forgeable)", grades=True, negate=True)
    feedback_hidden: FeedbackHidden = _setting(
        "message", "--feedback-hidden", "what feedback shows of a hidden test: its result and message (default), "
                                        "or its code too", grades=True, choices=get_args(FeedbackHidden))
    force: bool = _setting(False, "--force", "regrade students already graded from the same files")
    sandbox: bool = _setting(True, "--no-sandbox", "do not use Linux namespaces (unshare)", negate=True)
    progress: bool = _setting(True, "--no-progress", "no progress bar", negate=True)
    scheduler: str | None = _setting(None, "--scheduler", "grade on a Dask distributed cluster: each student is a "
                                                          "task of this scheduler's workers", metavar="tcp://HOST:PORT")
    service: str | None = _setting(None, "--service", "grade on the warm workers of a running regloss serve "
                                                      "(its URL; an instructor's token in $REGLOSS_TOKEN)",
                                   metavar="URL")
    #: write the feedback pages (the check service answers in JSON and skips them: about a second a check)
    feedback: bool = _setting(True, None, "write each student's feedback page")
    #: keep each student's scratch folder (set from REGLOSS_KEEP_WORKSPACES, for debugging the grader)
    keep_workspace: bool = _setting(False, None, "keep each student's scratch folder")

    def validate(self) -> None:
        """Raise :class:`regloss.course.CourseError` for a limit out of range or an unknown choice."""
        from regloss.course import CourseError

        for f in fields(self):
            v, meta = getattr(self, f.name), f.metadata
            if isinstance(v, int) and not isinstance(v, bool) and (v < 0 or (meta["positive"] and v == 0)):
                raise CourseError(f"{meta['flag']} must be positive, got {v}")
            if meta["choices"] and v not in meta["choices"]:
                raise CourseError(f"{meta['flag']} must be one of {', '.join(map(repr, meta['choices']))}, got {v!r}")
        if self.scheduler and self.service:
            raise CourseError("--scheduler and --service are two places to grade: give one")

    def grading_key(self, source_digest: str) -> str:
        """The key of a run's results: the assignment's source and every setting that changes a grade."""
        return ":".join([source_digest, *(str(getattr(self, f.name)) for f in fields(self) if f.metadata["grades"])])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Settings:
        """The record :meth:`to_dict` wrote (unknown keys refused: both ends run the same regloss)."""
        return cls(**d)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add a flag for every setting that has one."""
    for f in fields(Settings):
        meta = f.metadata
        if meta["flag"] is None:
            continue
        if isinstance(f.default, bool):
            parser.add_argument(meta["flag"], dest=f.name, action="store_false" if meta["negate"] else "store_true",
                                help=meta["help"])
        else:
            parser.add_argument(meta["flag"], dest=f.name, type=type(f.default) if f.default is not None else str,
                                default=f.default, choices=meta["choices"], metavar=meta["metavar"],
                                help=meta["help"])


def from_arguments(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The :class:`Settings` of parsed arguments (the flags :func:`add_arguments` added)."""
    values = {f.name: getattr(args, f.name) for f in fields(Settings) if f.metadata["flag"] and hasattr(args, f.name)}
    return Settings(**{**values, **overrides})


class CarriesSettings:
    """A dataclass request that carries the run's :class:`Settings` (a ``settings`` field) and
    crosses to another process as a JSON file: :meth:`write` there, :meth:`read` back."""

    settings: Settings

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self)))  # type: ignore[call-overload]

    @classmethod
    def read(cls, path: str | Path) -> Self:
        d = json.loads(Path(path).read_text())
        return cls(**{**d, "settings": Settings.from_dict(d["settings"])})
