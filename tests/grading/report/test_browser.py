"""The course in a real browser: JupyterLab (from this environment, on 127.0.0.1, a free
port, a token) in Debian's headless Chromium, driven by Playwright.

* the student's side: the release (a copy), with the instructor tools turned off by
  ``regloss student-setup``: a notebook with a wrong answer, then one with a right
  answer, run cell by cell; what the student sees (the failing visible test's
  message, the passing one, the plots, nbgrader's Validate button and its verdict);
* the instructor's side: a Canvas export graded with ``regloss grade``, then
  JupyterLab started in the run's folder as the README says: formgrader lists the
  run's students, a written answer is graded there (its rubric in the source
  notebook beside it), and the next ``regloss grade`` exports that score to
  grades.csv and canvas.csv.

Screenshots go to ``$REGLOSS_SCREENSHOTS`` if set, else under pytest's tmp dir;
the folder is printed. Without Playwright or a Chromium the test is skipped,
saying why.
"""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.catalogue import all_entries
from tests.harness import solution_sources
from tests.services import wait_for_http

ROOT = Path(__file__).resolve().parents[3]
A = "01_l1_mse"
NB = f"{A}.ipynb"
CHROMIUM = os.environ.get("REGLOSS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WRITTEN = "why_mse_punishes"  # a manually graded written answer of 01

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,  # Chromium, a Jupyter server and the regloss command
    pytest.mark.skipif(sync_playwright is None, reason="the Python package playwright is not installed "
                                                       "(pip install -e '.[dev]')"),
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} "
                                                            "(Debian: apt-get install -y chromium)"),
]


# --------------------------------------------------------------------------- helpers


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path, name: str):
    """An environment of its own for one JupyterLab: config, settings and runtime dirs."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env["JUPYTER_CONFIG_DIR"] = str(tmp / f"{name}-config")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp / f"{name}-runtime")
    settings = tmp / f"{name}-settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True, exist_ok=True)
    # every cell in the page (no virtual scrolling), so what a student sees is in the DOM
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp / f"{name}-workspaces")
    Path(env["JUPYTER_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    return env


@contextlib.contextmanager
def jupyter_lab(root: Path, env: dict, log: Path):
    """JupyterLab serving ``root`` (started in it), on 127.0.0.1 with a token; yields its base URL
    and token."""
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
           "--ServerApp.port_retries=0"] + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with open(log, "wb") as out:
        p = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/api/status?token={token}", p, 180, "JupyterLab", log)
        yield base, token
    finally:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("REGLOSS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}", file=sys.__stdout__, flush=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _release_copy(dest: Path, replace: dict):
    """The student release of 01 in ``dest`` with its solution cells filled from ``replace``
    and its written answers answered (Validate asks for every answer)."""
    shutil.copytree(ROOT / "notebooks" / A, dest)
    nb = nbformat.read(str(dest / NB), as_version=4)
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid in replace:
            c.source = replace[gid]
        elif meta.get("solution") and c.cell_type == "markdown":
            c.source = "My answer: MSE squares the error, L1 does not; the gradients follow."
    nbformat.write(nb, str(dest / NB))


def _wrong_l1():
    (entry,) = [e for e in all_entries() if e.assignment == A and e.cell == "l1_loss" and e.name == "always-sum"]
    return entry.source


RUN_ALL = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.sessionContext.ready;
    await app.commands.execute('notebook:run-all-cells');
    const deadline = Date.now() + 600000;
    while (panel.sessionContext.session.kernel.status !== 'idle' && Date.now() < deadline) {
        await new Promise(r => setTimeout(r, 250));
    }
    return panel.sessionContext.session.kernel.status;
}"""


def _open_notebook(page, base, token, rel):
    # ?reset: JupyterLab does not restore the previous page's layout, whose notebook it
    # could otherwise make current again after this one opens (the next checks would
    # then run the previous notebook)
    page.goto(f"{base}/lab/tree/{rel}?reset&token={token}")
    page.wait_for_function("(rel) => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.context && "
                           "window.jupyterapp.shell.currentWidget.context.path === rel && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", arg=rel,
                           timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)


def _cell_text(page, grade_id):
    """The visible text of the output of the cell whose nbgrader grade_id is ``grade_id``."""
    return page.evaluate("""(gid) => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        for (const w of nb.widgets) {
            const m = w.model.getMetadata('nbgrader');
            if (m && m.grade_id === gid) {
                const out = w.node.querySelector('.jp-OutputArea');
                return out ? out.innerText : '';
            }
        }
        return null;
    }""", grade_id)


def _validate(page):
    """Click nbgrader's Validate button; returns the text of the dialog with its verdict."""
    button = page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).locator("visible=true")
    button.first.wait_for(timeout=60_000)
    button = button.first
    button.click()
    dialog = page.locator(".jp-Dialog-content").filter(has_text="Validat").last
    page.wait_for_function("""() => {
        const d = [...document.querySelectorAll('.jp-Dialog-content')].map(x => x.innerText).join(' ');
        return /Success|passes|FAILED|failed|error/i.test(d) && !/Validating\\.\\.\\.$/.test(d.trim());
    }""", timeout=600_000)
    return dialog.inner_text()


def _close_dialog(page):
    page.locator(".jp-Dialog-button").last.click()


# --------------------------------------------------------------------------- student


def test_student_sees_messages_plots_and_validate_without_instructor_tools(tmp_path, browser, shots):
    student = tmp_path / "student"
    sol = solution_sources(A)
    _release_copy(student / "wrong", {**sol, "l1_loss": _wrong_l1()})
    _release_copy(student / "right", sol)
    env = _env(tmp_path, "student")
    setup = subprocess.run([sys.executable, "-m", "regloss", "student-setup", "--level", "user"], env=env,
                           capture_output=True, text=True, cwd=ROOT)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    with jupyter_lab(student, env, tmp_path / "student-lab.log") as (base, token):
        assert _status(f"{base}/formgrader?token={token}") == 404  # the server extension is off
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)

        _open_notebook(page, base, token, f"wrong/{NB}")
        commands = page.evaluate("() => ['nbgrader:open-formgrader', 'nbgrader:open-create-assignment', "
                                 "'nbgrader:open-course-list'].map(c => window.jupyterapp.commands.hasCommand(c))")
        assert commands == [False, False, False], "instructor tools still in the student's JupyterLab"
        assert page.evaluate("() => window.jupyterapp.commands.hasCommand('nbgrader:open-assignment-list')")
        assert page.evaluate(RUN_ALL) == "idle"
        failing = _cell_text(page, "test_l1_loss__visible")
        assert "did you sum instead of averaging" in failing, failing
        assert "AssertionError" in failing or "CheckFailed" in failing, failing
        page.locator(".jp-Cell").filter(has_text="did you sum instead of averaging").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "student-1-wrong-answer.png"))
        verdict = _validate(page)
        page.screenshot(path=str(shots / "student-2-validate-wrong.png"))
        assert "Success" not in verdict and "l1_loss" in verdict, verdict
        _close_dialog(page)

        _open_notebook(page, base, token, f"right/{NB}")
        assert page.evaluate(RUN_ALL) == "idle"
        assert "l1_loss matches PyTorch on the worked examples." in _cell_text(page, "test_l1_loss__visible")
        errors = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="
                               "\"application/vnd.jupyter.stderr\"]')].map(e => e.innerText)")
        assert not [e for e in errors if "Error" in e], errors
        images = page.evaluate("() => [...document.querySelectorAll('.jp-RenderedImage img')]"
                               ".map(i => [i.naturalWidth, i.naturalHeight])")
        assert images and all(w > 100 and h > 100 for w, h in images), images
        page.locator(".jp-RenderedImage img").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "student-3-right-answer-plot.png"))
        page.locator(".jp-Cell").filter(has_text="l1_loss matches PyTorch").last.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "student-4-right-answer-passing-test.png"))
        verdict = _validate(page)
        page.screenshot(path=str(shots / "student-5-validate-right.png"))
        assert "Success" in verdict, verdict
        page.close()


# --------------------------------------------------------------------------- instructor


def _canvas_export(folder: Path):
    """A Canvas 'Download Submissions' folder of two students (one late, with a mistake)."""
    folder.mkdir(parents=True)
    sol = solution_sources(A)
    release = nbformat.read(str(ROOT / "notebooks" / A / NB), as_version=4)
    for name, replace in [("doejane_1001_5001_", sol), ("roebob_LATE_1002_5002_", {**sol, "l1_loss": _wrong_l1()})]:
        nb = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id")
            if gid in replace:
                c.source = replace[gid]
            if gid == WRITTEN:
                c.source = "MSE squares the error, so large errors dominate; L1 grows linearly."
        nbformat.write(nb, str(folder / f"{name}{NB}"))


def _grade(canvas, out, roster=None):
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    args = [sys.executable, "-m", "regloss", "grade", A, str(canvas), "--out", str(out), "--workers", "2",
            "--timeout", "60", "--no-progress"] + (["--roster", str(roster)] if roster else [])
    p = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_instructor_formgrader_on_the_run_then_export(tmp_path, browser, shots, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    canvas, out = tmp_path / "canvas", tmp_path / "run"
    _canvas_export(canvas)
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",1001,S1001,jdoe,Sec A\n'
                      '"Roe, Bob",1002,S1002,broe,Sec B\n')
    summary = _grade(canvas, out, roster)
    assert "Canvas's Download Submissions" in summary and "late: 1002" in summary
    assert (out / "nbgrader_config.py").is_file()
    db = f"sqlite:///{out / 'gradebook.db'}"
    with Gradebook(db) as gb:
        nb_id = gb.find_submission_notebook(A, A, "1001").id
        max_written = gb.find_grade(WRITTEN, A, A, "1001").max_score
    before = {r[0]: r for r in _csv(out / "grades.csv")}

    env = _env(tmp_path, "instructor")
    with jupyter_lab(out, env, tmp_path / "instructor-lab.log") as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(f"{base}/lab?token={token}")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand("
                               "'nbgrader:open-formgrader')", timeout=120_000)
        page.goto(f"{base}/formgrader/manage_students?token={token}")
        page.get_by_text("1001", exact=True).first.wait_for()
        assert page.get_by_text("1002", exact=True).count() >= 1
        assert page.get_by_text("Doe, Jane", exact=True).count() >= 1  # the roster's names
        page.screenshot(path=str(shots / "instructor-1-formgrader-students.png"))

        # formgrader counts the submissions
        page.goto(f"{base}/formgrader/manage_assignments?token={token}")
        page.locator("tr").filter(has_text=A).first.wait_for()
        count = page.evaluate("""(a) => {
            const heads = [...document.querySelectorAll('thead th')].map(th => th.innerText.trim());
            const col = heads.findIndex(h => h.includes('Submissions'));
            const row = [...document.querySelectorAll('tbody tr')].find(r => r.innerText.includes(a));
            return col < 0 || !row ? null : row.querySelectorAll('td')[col].innerText.trim();
        }""", A)
        assert count == "2", count
        page.screenshot(path=str(shots / "instructor-2-formgrader-assignments.png"))

        # the written answer, with its model answer and rubric right below it (the grader's eyes only)
        page.goto(f"{base}/formgrader/submissions/{nb_id}/?token={token}")
        cell = page.locator(".nbgrader_cell").filter(has_text="MSE squares the error").first
        cell.wait_for()
        rubric = page.get_by_text("For the grader: model answer and rubric").first
        rubric.scroll_into_view_if_needed()
        assert rubric.is_visible() and page.get_by_text("Rubric (3 points)").count() >= 1
        score = cell.locator("input.score")
        score.fill(str(max_written - 1))
        score.press("Tab")
        page.wait_for_timeout(2000)
        page.screenshot(path=str(shots / "instructor-3-written-answer-graded.png"))
        page.close()

    with Gradebook(db) as gb:
        assert gb.find_grade(WRITTEN, A, A, "1001").manual_score == max_written - 1
    _grade(canvas, out, roster)  # the export: grades.csv and the LMS gradebooks re-read the gradebook
    after = {r[0]: r for r in _csv(out / "grades.csv")}
    assert float(after["1001"][1]) == float(before["1001"][1]) + max_written - 1
    late = _csv(out / "grades.csv")[0].index("late")
    assert after["1002"][late] == "yes"
    canvas_rows = _csv(out / "canvas.csv")
    assert canvas_rows[2][:5] == ["Doe, Jane", "1001", "S1001", "jdoe", "Sec A"]
    assert float(canvas_rows[2][5]) == float(after["1001"][1])
    export = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=out, capture_output=True, text=True,
                            env=dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                                       os.environ.get("PATH", "")])))
    assert export.returncode == 0, export.stdout + export.stderr
    assert (out / "nbgrader-export.csv").is_file()
    assert _csv(out / "grades.csv") == [list(r) for r in after.values()] or \
        {r[0]: r for r in _csv(out / "grades.csv")} == after  # nbgrader's export left grades.csv alone
