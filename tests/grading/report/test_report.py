"""The class report's pure parts: grades.csv, the summary, the LMS gradebooks, the roster,
the misconceptions (classify, count, mistakes.csv, the bar chart) and the plots."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import itertools

import nbformat
import numpy as np
import pytest

from regloss.checks import diagnose
from regloss.checks.cases import case
from regloss.checks.losses import REGISTRY
from regloss.checks.reference import torch_grad, torch_loss
from regloss.course import CourseError
from regloss.grading.lms import canvas, moodle
from regloss.grading.lms import roster as lms
from regloss.grading.report import mistakes
from regloss.grading.report import tables as report
from regloss.grading.run.intake import StudentInfo


def _row(sid, score, max_score=15, auto=None, auto_max=12, pending=0, problems="", graded=True, late=False,
         failed=()):
    return report.Row(sid, score, max_score, score if auto is None else auto, auto_max, pending, problems,
                      f"feedback/{sid}/a/a.html", list(failed), graded, late)


ROWS = [
    _row("1001", 12, failed=()),
    _row("1002", 8, late=True, failed=["test_l1_loss__visible", "test_l1_loss__hidden"]),
    _row("1003", 0, problems="no notebook submitted (empty folder); scored 0", graded=False),
    _row("1004", 9, pending=3, failed=["test_l1_loss__hidden"]),
]


def _csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# --------------------------------------------------------------------------- grades.csv and summary


def test_grades_csv_has_one_row_per_student_and_a_late_column(tmp_path):
    report.write_csv(ROWS, tmp_path / "grades.csv")
    rows = _csv(tmp_path / "grades.csv")
    assert rows[0] == report.COLUMNS and rows[0][-1] == "late"
    assert [r[0] for r in rows[1:]] == ["1001", "1002", "1003", "1004"]
    assert [r[-1] for r in rows[1:]] == ["no", "yes", "no", "no"]
    assert rows[3][6].startswith("no notebook submitted")


def test_grades_csv_has_a_column_per_graded_function_whose_points_add_up_to_the_autograded_score(tmp_path):
    from regloss.grading.run.gradebook import CellResult

    cells = [CellResult("a", "test_l1_loss__visible", 1.0, 1.0, False, True),
             CellResult("a", "test_l1_loss__hidden", 0.0, 2.0, False, True),
             CellResult("a", "test_mse_loss__visible", 1.0, 1.0, False, True),
             CellResult("a", "test_mse_loss__hidden", 2.0, 2.0, False, True)]
    functions = report.points_per_function(cells)
    assert functions == {"l1_loss": (1.0, 3.0), "mse_loss": (3.0, 3.0)}
    rows = [_row("1001", 4, auto_max=6), _row("1003", 0, graded=False)]
    rows[0].functions = functions
    report.write_csv(rows, tmp_path / "grades.csv")
    got = _csv(tmp_path / "grades.csv")
    assert got[0] == report.COLUMNS + ["l1_loss", "mse_loss"]
    assert got[1][-2:] == ["1", "3"] and sum(map(float, got[1][-2:])) == float(got[1][3])  # = auto_score
    assert got[2][-2:] == ["", ""]  # nothing graded
    assert rows[0].functions_text() == "l1_loss 1/3, mse_loss 3/3"
    moodle.write_moodle(rows, {}, tmp_path / "moodle.csv")
    assert "autograded 4/6 (l1_loss 1/3, mse_loss 3/3)" in _csv(tmp_path / "moodle.csv")[1][-1]


def test_summary_table_and_common_mistakes():
    text = report.summary_table(ROWS, width=20)
    assert "1004" in text and "9/15+" in text  # the total, as grades.csv; + : written answers pending
    assert "no notebook submi..." in text
    common = report.common_mistakes(ROWS)
    assert common[0] == ("test_l1_loss__hidden", 2, 3)  # 3 notebooks ran; the blank one did not


@pytest.mark.parametrize("top, scores, bar_of", [
    (8, [8, 8, 7, 0], {8: 2, 7: 1, 0: 1}),  # a full score is in the bar of 8, not shared with 7
    (12, [12, 11.5, 11, 6], {12: 2, 11: 1, 6: 1}),  # a half point counts with the bar above
    (100, [100, 99, 90], {100: 2, 90: 1}),  # over 40 points: bars of 5, centred on 90, 95, 100
])
def test_each_bar_holds_the_scores_it_is_centred_on(top, scores, bar_of):
    import numpy as np

    edges = np.array(report.score_bins(top))
    counts, _ = np.histogram(scores, bins=edges)
    for score, n in bar_of.items():
        i = int(np.searchsorted(edges, score, side="right")) - 1
        assert counts[i] == n, (score, edges[i:i + 2])
        if score == top:  # the full score mid-bar, not on an edge
            assert edges[i] < top < edges[i + 1] and abs((edges[i] + edges[i + 1]) / 2 - top) < 1e-9


def test_score_plot_is_a_png(tmp_path):
    report.plot_distribution(ROWS, tmp_path / "scores.png", "a")
    assert (tmp_path / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- LMS gradebooks and roster


def test_canvas_csv_is_the_gradebook_import_format(tmp_path):
    who = {"1001": lms.Person("1001", "Doe, Jane", "Sec A", "S1", "jdoe")}
    canvas.write_canvas(ROWS, who, "01_l1_mse", tmp_path / "canvas.csv")
    rows = _csv(tmp_path / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_l1_mse"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "15"
    assert rows[2] == ["Doe, Jane", "1001", "S1", "jdoe", "Sec A", "12"]
    assert rows[3][:2] == ["", "1002"] and rows[3][-1] == "8"
    assert len(rows) == 2 + len(ROWS)


def test_moodle_csv_is_the_offline_grading_worksheet(tmp_path):
    who = {"2001": lms.Person("2001", "Jane Doe", email="jane@example.org")}
    rows = [_row("2001", 12.5), _row("2002", 0, problems="no notebook submitted (empty folder)", graded=False)]
    when = dt.datetime(2026, 11, 23, 18, 5)
    moodle.write_moodle(rows, who, tmp_path / "moodle.csv", when=when)
    got = _csv(tmp_path / "moodle.csv")
    assert got[0] == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                      "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                      "Feedback comments"]
    assert got[1][:7] == ["Participant 2001", "Jane Doe", "jane@example.org", "Submitted for grading", "12.50",
                          "15.00", "Yes"]
    assert got[1][8] == "Monday, 23 November 2026, 6:05 PM"  # Moodle's strftimedatetime
    assert got[1][9].startswith("autograded 12.5/12")
    assert got[2][3] == "No submission" and got[2][4] == "0.00" and "no notebook" in got[2][9]


def test_moodle_time_morning_and_noon():
    assert moodle.moodle_time(dt.datetime(2026, 1, 5, 0, 7)) == "Monday, 5 January 2026, 12:07 AM"
    assert moodle.moodle_time(dt.datetime(2026, 1, 5, 12, 30)) == "Monday, 5 January 2026, 12:30 PM"


def test_roster_from_a_canvas_export_and_from_a_moodle_worksheet(tmp_path):
    (tmp_path / "canvas.csv").write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1 (77)\n"
        "    Points Possible,,,,,10\n"
        '"Doe, Jane",1001,S1,jdoe,Sec A,9\n')
    people = lms.read_roster(tmp_path / "canvas.csv")
    assert set(people) == {"1001"}
    assert people["1001"] == lms.Person("1001", "Doe, Jane", "Sec A", "S1", "jdoe", "")
    (tmp_path / "moodle.csv").write_text(
        "\ufeffIdentifier,Full name,Email address,Status,Grade\n"
        "Participant 2001,Jane Doe,jane@example.org,Submitted for grading,\n")
    people = lms.read_roster(tmp_path / "moodle.csv")
    assert people["2001"].name == "Jane Doe" and people["2001"].email == "jane@example.org"


def test_roster_errors_are_clear(tmp_path):
    (tmp_path / "r.csv").write_text("name,section\nJane,A\n")
    with pytest.raises(CourseError, match="no student id column"):
        lms.read_roster(tmp_path / "r.csv")
    with pytest.raises(CourseError, match="cannot read the roster"):
        lms.read_roster(tmp_path / "missing.csv")


def test_people_prefer_the_roster_then_the_export():
    infos = {"1002": StudentInfo("1002", "roebob", True)}
    who = lms.people(ROWS, infos, {"1001": lms.Person("1001", "Doe, Jane")})
    assert who["1001"].name == "Doe, Jane" and who["1002"].name == "roebob" and who["1003"].name == ""


@pytest.mark.parametrize("name, parts", [("Doe, Jane", ("Jane", "Doe")), ("Jane van Doe", ("Jane van", "Doe")),
                                         ("doejane", (None, "doejane")), ("", (None, None))])
def test_split_name(name, parts):
    assert lms.split_name(name) == parts


@pytest.mark.parametrize("person, names", [
    (lms.Person("1001", "Doe, Jane", email="j@x.org"), ("Jane", "Doe", "j@x.org")),
    (lms.Person("1002", "babbagecharles"), ("", "babbagecharles", "")),  # Canvas's file name, no roster
    (lms.Person("1003"), ("", "1003", "")),  # no name anywhere: formgrader shows the id, never "None"
])
def test_formgrader_is_given_no_missing_name_or_email(person, names):
    got = lms.gradebook_names(person)
    assert (got["first_name"], got["last_name"], got["email"]) == names


@pytest.mark.slow  # nbgrader's Gradebook runs `alembic`
def test_gradebook_students_get_the_roster_names(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    from regloss.course.nbgrader_tool import tool_env

    monkeypatch.setenv("PATH", tool_env()["PATH"])  # nbgrader's Gradebook runs `alembic`

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_student("1001")
        gb.add_student("1002", first_name="Robert", last_name="Roe")
    lms.name_students(url, {"1001": lms.Person("1001", "Doe, Jane", email="j@x.org"),
                            "1002": lms.Person("1002", "Roe, Bob"), "9999": lms.Person("9999", "No One")})
    with Gradebook(url) as gb:
        s1, s2 = gb.find_student("1001"), gb.find_student("1002")
        assert (s1.first_name, s1.last_name, s1.email) == ("Jane", "Doe", "j@x.org")
        assert (s2.first_name, s2.last_name, s2.email) == ("Robert", "Roe", "")  # a name already given is kept
        assert [s.id for s in gb.students] == ["1001", "1002"]


# --------------------------------------------------------------------------- misconceptions


def _hint(student, truth, c, kind, name):
    kw = {"loss": name} if "loss" in inspect.signature(diagnose.hint).parameters else {}
    return diagnose.hint(student, truth, c, kind, REGISTRY[name].main, rtol=1e-6, **kw)


def _params(name, p):
    """The parameters of ``name`` for the generator's ``p``: 2.0, or the special value 0."""
    param = REGISTRY[name].main
    if param is None:
        return {}
    if name == "general_robust_loss":
        return {"alpha": p, "scale": 2.0}
    if name == "quantile_loss":
        return {"q": 0.25 if p else 0.5}
    return {param: p}


def _every_hint():
    """Every hint diagnose gives: each factor reading, and each place an element-wise answer
    can be wrong, for each loss the reference knows, each kind, reduction and parameter."""
    found = {}
    errors = np.array([-800.0, -3.0, -2.0, -0.5, -1e-4, 0.0, 1e-4, 0.5, 2.0, 3.0, 800.0])
    for name, kind, red, p in itertools.product(sorted(REGISTRY), ["loss", "grad"], ["none", "mean", "sum"],
                                                [2.0, 0.0]):
        params = _params(name, p)
        c = case(errors, np.zeros_like(errors), red, **params)
        f = torch_loss if kind == "loss" else torch_grad
        try:
            truth = np.asarray(f(name, c.input, c.target, red, **params), dtype=float)
        except Exception:  # noqa: BLE001 - a parameter the loss refuses (delta = 0)
            continue
        n = errors.size
        q = p or 1.0
        variants = [k * truth for k in (n, 1 / n, q, 1 / q, q * q, 1 / (q * q), 2 / (q * q), 6 / (q * q),
                                         -1.0, 2.0, 0.5)]
        if truth.shape == errors.shape:
            for where in (errors == 0, np.abs(errors) > 2, errors < -2, np.abs(errors) < 2, np.abs(errors) == 2,
                          errors > 0, errors < 0, np.abs(errors) > 700, (np.abs(errors) < 1e-2) & (errors != 0)):
                for change in (lambda s: s + 1.0, lambda s, q=q: s + 0.5 * q ** 2, lambda s, q=q: s - 0.5 * q ** 2,
                               lambda s, q=q: s + q * 0.5, lambda s: np.sign(s) * 1.0,
                               lambda s, q=q: np.sign(s) * q, lambda s: s * np.nan, lambda s: s * np.inf):
                    s = truth.copy()
                    with np.errstate(all="ignore"):
                        s[where] = change(s[where])
                    variants.append(s)
        for s in variants:
            with np.errstate(all="ignore"):
                h = _hint(s, truth, c, kind, name)
            if h:
                found.setdefault(h, (name, kind, red, p))
    return found


HINTS = _every_hint()


STRUCTURAL = {"no-return", "wrong-shape", "not-an-array", "accepts-invalid", "vague-error", "wrong-exception",
              "delegates", "gradient-vs-finite-differences"}  # compare's and own_work's, not diagnose's
STRUCTURAL |= {  # assignment 08's: training's and schedules', not diagnose's
    "not-a-tensor", "wrong-dtype", "no-grad-fn", "missing-gradient", "ignores-grad-output", "forward-ignores-loss",
    "backward-ignores-loss-grad", "not-reentrant", "wrong-number-of-losses", "parameters-unchanged",
    "no-zero-grad", "loss-after-step", "step-before-backward", "beta-updated-every-step", "beta-applied-early",
    "first-interval-not-beta0", "beta-never-updated", "beta-not-positive", "mean-record", "kth-largest",
    "kth-off-by-one", "mean-of-records", "beta-not-typical", "beta-not-capped", "records-not-cleared",
    "momentum-flipped", "std-for-variance", "no-running-statistics", "signed-errors", "beta-not-finite",
    "beta-clipped-at-zero", "beta-reads-ahead", "beta-before-update", "columns-not-separate"}
STRUCTURAL |= {  # assignment 07's Monte Carlo and MM fit: robust_stats', not diagnose's
    "efficiency-inverted", "ci-of-one-run", "ci-ddof", "ci-normal-quantile", "seeds-unused", "bias-unsigned",
    "mad-unnormalised", "scale-from-outliers", "c-on-raw-residuals"}
STRUCTURAL |= {  # assignment 08's mini-batch training loop: training's, not diagnose's
    "wrong-number-of-steps", "rows-not-from-x", "batch-with-replacement", "last-batch-dropped", "wrong-batch-size",
    "epoch-incomplete", "not-shuffled", "shuffled-once", "rng-ignored"}
STRUCTURAL |= {  # assignment 05's IRLS weight: weights', not diagnose's (tests/checks/test_planted_hints_05.py)
    "weight-signed", "weight-at-zero", "weight-is-psi-prime", "weight-no-quadratic-zone", "weight-inverted",
    "weight-factor", "weight-square-root", "weight-from-rho", "weight-divides-twice"}


def test_every_mistake_of_diagnose_is_reached_by_some_hint():
    reached = {mistakes.classify("x: " + h) for h in HINTS}
    assert set(mistakes.BY_ID) - STRUCTURAL <= reached, set(mistakes.BY_ID) - STRUCTURAL - reached


@pytest.mark.parametrize("hint_text", sorted(HINTS), ids=lambda h: h[:60])
def test_every_hint_diagnose_gives_has_a_stable_id(hint_text):
    message = f"l1_loss(input=[...], target=[...]) gave 1, PyTorch gives 2: {hint_text}"
    mid = mistakes.classify(message)
    assert mid in mistakes.BY_ID, f"{HINTS[hint_text]}: {hint_text!r} -> {mid}"


@pytest.mark.parametrize("message, expected", [
    ("huber_loss(...) gave 2, PyTorch gives 1: did you sum instead of averaging? reduction='mean' divides "
     "[mistake: sum-for-mean]", "sum-for-mean"),
    ("l1_loss_grad(...) gave [...]; first difference at index (3,), where e = 0: you give 1, PyTorch 0: "
     "wrong only where e = 0: PyTorch's (sub)gradient there is 0 (np.sign(0) is 0; a test such as e >= 0 gives 1) "
     "[mistake: sign(0)]", "sign(0)"),
    ("huber_loss(...) gave 3: divided by delta: that is the SmoothL1 convention; Huber = delta * SmoothL1 "
     "[mistake: smoothl1-convention]", "smoothl1-convention"),
    ("...: did you forget the 1/N of the mean? With reduction='mean' [mistake: missing-1/N]; or half of PyTorch's "
     "value: a factor 2 missing [mistake: missing-2]", "missing-1/N"),  # the first diagnosis counts
    ("...: wrong only where |e| > delta (the linear branch): the slope there is +-delta, not +-1 "
     "[mistake: linear-slope-1]", "linear-slope-1"),
    ("...: wrong only where |e| > delta (the linear branch); only negative errors e < -delta are wrong: did you "
     "test e < delta instead of |e| < delta? [mistake: branch-on-e-not-|e|]", "branch-on-e-not-|e|"),
    ("l1_loss returned None: did you forget `return`? [mistake: no-return]", "no-return"),
    ("l1_loss calls torch.nn.functional.l1_loss. This exercise asks you to write the computation yourself "
     "[mistake: delegates]", "delegates"),
    ("l1_loss(..., reduction='avg') returned 1 instead of raising ValueError. PyTorch refuses it "
     "[mistake: accepts-invalid]", "accepts-invalid"),
    ("huber_loss(...) gave 1.5, PyTorch gives 1.25", "other"),
])
def test_classify_names_the_first_diagnosis(message, expected):
    assert mistakes.classify(message) == expected


def test_classify_stubs_and_crashes():
    assert mistakes.classify("", "NotImplementedError") is None
    assert mistakes.classify("name 'np' is not defined", "NameError") == "error"


def _executed_notebook(outputs):
    """A notebook like an autograded one: test cells with their error outputs."""
    nb = nbformat.v4.new_notebook()
    for gid, ename, evalue in outputs:
        cell = nbformat.v4.new_code_cell("check()")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": gid, "points": 1}
        if ename:
            cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
        nb.cells.append(cell)
    sol = nbformat.v4.new_code_cell("def l1_loss(): ...")
    sol.metadata["nbgrader"] = {"grade": False, "solution": True, "grade_id": "l1_loss"}
    sol.outputs = [nbformat.v4.new_output("error", ename="SyntaxError", evalue="not a test", traceback=[])]
    nb.cells.append(sol)
    return nb


SUM = ("gave 9, PyTorch gives 3: did you sum instead of averaging? reduction='mean' divides by the number "
       "[mistake: sum-for-mean]")
SIGN0 = "gave [1], PyTorch gives [0]: wrong only where e = 0: PyTorch's (sub)gradient there is 0 [mistake: sign(0)]"


def test_failure_messages_from_autograded_notebooks_and_from_a_result(tmp_path):
    folder = tmp_path / "autograded" / "s1" / "a"
    folder.mkdir(parents=True)
    nbformat.write(_executed_notebook([("test_l1_loss__visible", "AssertionError", SUM),
                                       ("test_l1_loss_grad__visible", None, None),
                                       ("test_mse_loss__visible", "NotImplementedError", "")]),
                   str(folder / "a.ipynb"))
    got = mistakes.failure_messages(tmp_path, "a", "s1")
    assert [(f.cell, f.ename) for f in got] == [("test_l1_loss__visible", "AssertionError"),
                                                ("test_mse_loss__visible", "NotImplementedError")]

    class Verdict:
        def __init__(self, grade_id, passed, message=""):
            self.grade_id, self.passed, self.message = grade_id, passed, message

    class Result:  # the judge's verdicts in the per-student result win over the notebooks
        verdicts = [Verdict("test_huber_loss__hidden", False, SIGN0), Verdict("test_huber_loss__visible", True),
                    Verdict("test_mse_loss__hidden", False, "NotImplementedError: "),
                    Verdict("test_l1_loss__hidden", False, "NameError: name 'np' is not defined")]

    got = mistakes.failure_messages(tmp_path, "a", "s1", Result())
    assert [(f.cell, f.ename) for f in got] == [("test_huber_loss__hidden", "AssertionError"),
                                                ("test_mse_loss__hidden", "NotImplementedError"),
                                                ("test_l1_loss__hidden", "NameError")]
    assert [mistakes.classify(f.message, f.ename) for f in got] == ["sign(0)", None, "error"]
    as_dicts = [{"grade_id": "test_x__hidden", "passed": False, "message": SUM}]
    assert mistakes.failure_messages(tmp_path, "a", "s1", type("R", (), {"verdicts": as_dicts})())[0].ename == \
        "AssertionError"
    assert mistakes.failure_messages(tmp_path, "a", "nobody") == []


def test_count_ranks_by_students_and_writes_csv_and_chart(tmp_path):
    F = mistakes.Failure
    by_student = {
        "a": [F("test_l1_loss__visible", "AssertionError", SUM), F("test_l1_loss__hidden", "AssertionError", SUM)],
        "b": [F("test_l1_loss__hidden", "AssertionError", SUM),
              F("test_l1_loss_grad__hidden", "AssertionError", SIGN0)],
        "c": [F("test_l1_loss_grad__visible", "AssertionError", SIGN0),
              F("test_mse_loss__visible", "NotImplementedError", "")],
        "d": [F("test_mse_loss__hidden", "AssertionError", "gave 1, PyTorch gives 2")],
    }
    tallies = mistakes.count(by_student)
    assert [(t.mistake, t.function, t.students, t.count, t.of) for t in tallies] == [
        ("sum-for-mean", "l1_loss", ["a", "b"], 3, 4),  # as many students: more failing checks first
        ("sign(0)", "l1_loss_grad", ["b", "c"], 2, 4),
        ("other", "mse_loss", ["d"], 1, 4),
    ]
    report.write_mistakes(tallies, tmp_path / "mistakes.csv")
    rows = _csv(tmp_path / "mistakes.csv")
    assert rows[0][:4] == ["mistake", "function", "students", "count"]
    assert rows[2][:4] == ["sign(0)", "l1_loss_grad", "2", "2"] and rows[2][-1] == "b c"
    lines = report.mistakes_summary(tallies)
    assert lines[1].split()[:4] == ["2.", "sign(0)", "in", "l1_loss_grad"] and "2/4 students" in lines[1]
    report.plot_mistakes(tallies, tmp_path / "mistakes.png", "a")
    report.plot_mistakes([], tmp_path / "none.png", "a")
    for png in ("mistakes.png", "none.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.mistakes_summary([]) == ["  none diagnosed"]


def test_a_student_counts_once_per_function_under_its_first_named_mistake():
    F = mistakes.Failure
    by_student = {  # 02's case: one student, one function, a named mistake and an unnamed one
        "a": [F("test_x__visible", "AssertionError", "gave 1, PyTorch gives 2"),
              F("test_x__hidden", "AssertionError", SUM)],
        "b": [F("test_x__visible", "AssertionError", "gave 1, PyTorch gives 2")],
        "c": [F("test_x__visible", "AssertionError", "gave 3, PyTorch gives 2")],
        "d": [F("test_x__visible", "AssertionError", "gave 4, PyTorch gives 2")],
    }
    tallies = mistakes.count(by_student, graded=6, assignment="02_huber")
    assert [(t.mistake, t.students, t.count, t.of) for t in tallies] == [
        ("sum-for-mean", ["a"], 2, 6),  # named: ranked above "other" although fewer students
        ("other", ["b", "c", "d"], 3, 6),
    ]
    assert sum(len(t.students) for t in tallies if t.function == "x") == 4  # each student once


@pytest.mark.parametrize("ename, message, mistake", [
    ("NameError", "name 'l1_loss' is not defined", "undefined"),  # its cell had a syntax error, or timed out
    ("NameError", "name 'np' is not defined", "error"),  # a name inside the function: it crashed
    ("ZeroDivisionError", "division by zero", "error"),
    ("NotImplementedError", "", None),
    ("AssertionError", "gave 1, PyTorch gives 2", "other"),
])
def test_a_function_that_does_not_exist_is_not_called_a_crash(ename, message, mistake):
    assert mistakes.classify(message, ename, "l1_loss") == mistake
    failure = mistakes.Failure("test_l1_loss__visible", ename, message)
    assert mistakes.diagnosis([failure]) == mistake
    if mistake == "undefined":  # the gradient's check calls the loss it is the gradient of
        assert mistakes.classify(message, ename, "l1_loss_grad") == "undefined"


def test_the_course_summary_counts_each_assignment_out_of_its_own_students():
    F = mistakes.Failure
    one = mistakes.count({"s1": [F("test_f__visible", "AssertionError", SUM)], "s2": []}, assignment="01")
    two = mistakes.count({"s1": [F("test_g__visible", "AssertionError", "gave 1, PyTorch gives 2")], "s2": [],
                          "s3": [], "s4": []}, assignment="02")
    lines = report.mistakes_summary(mistakes.rank([*two, *one]), assignments=True)
    assert "in 01: f" in lines[0] and "1/2 students" in lines[0]
    assert "in 02: g" in lines[1] and "1/4 students" in lines[1]
