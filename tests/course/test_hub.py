"""The course on a real JupyterHub with nbgrader's exchange, in a real browser.

``regloss hub-config`` writes the set-up; JupyterHub (from PyPI) and npm's
configurable-http-proxy serve it on 127.0.0.1 (free ports), with JupyterHub's dummy
authenticator and the local-process spawner, which runs each user's server as that
Unix user: the test makes three Unix users (two students, one instructor; unique
names, removed at the end whatever happens), so it runs as root (as CI does) and is
skipped otherwise.

The round trip, as docs/jupyterhub.md tells it: the instructor releases 01 to the
exchange (``nbgrader release_assignment`` as the instructor, with the generated nbgrader
config); each student logs in in Chromium, sees it in the Assignment List (and no
Formgrader), fetches it, answers (one right, one with a wrong ``l1_loss``, which
Validate in the Assignment List reports) and submits from the Assignment List; the
instructor runs ``regloss grade 01_l1_mse --exchange DIR --course ID``; each student
fetches feedback from the Assignment List and sees their own score, and nothing of the
other's (nor can they list the exchange's feedback folder).

Screenshots go to ``$REGLOSS_SCREENSHOTS`` if set, else under pytest's tmp dir.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.catalogue import all_entries
from tests.harness import solution_sources
from tests.services import wait_for_http

ROOT = Path(__file__).resolve().parents[2]
A = "01_l1_mse"
NB = f"{A}.ipynb"
COURSE = "regloss-test"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("REGLOSS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None


def _why_not():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root: the Hub's local-process spawner runs each user's server as a Unix user the test creates"
    if shutil.which("useradd") is None or shutil.which("unshare") is None:
        return "no useradd (to create the test's Unix users) or no unshare"
    if sync_playwright is None:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)"
    if not (BIN / "jupyterhub").is_file():
        return "jupyterhub is not installed (pip install -e '.[dev]')"
    if shutil.which("configurable-http-proxy") is None:
        return "no configurable-http-proxy on PATH (npm install -g configurable-http-proxy)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd, user=None, top=None, timeout=300, **kw):
    """Run ``cmd`` (as ``user`` through runuser, with that user's HOME, in :func:`in_namespace`);
    fail with its output."""
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]), **kw.pop("env", {}))
    if user:
        env.update(HOME=pwd.getpwnam(user).pw_dir, USER=user, LOGNAME=user)
        cmd = in_namespace(["runuser", "-u", user, "--", *cmd], top)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=timeout, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout + p.stderr


def _blocked() -> list[tuple[Path, Path]]:
    """(folder, its child on the way) for each folder on the way to this Python (the interpreter
    and its environment) that other users cannot pass through (here: a pyenv in root's 0700 home)."""
    found = []
    for target in {Path(os.path.realpath(sys.executable)), Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}:
        for child in [target, *target.parents][:-1]:
            folder = child.parent
            if not folder.stat().st_mode & 0o001 and (folder, child) not in found:
                found.append((folder, child))
    return sorted(found, key=lambda fc: len(fc[0].parts))


def in_namespace(cmd, top: Path):
    """``cmd`` in a mount namespace of its own where the folders of :func:`_blocked` are passable
    (a 0711 tmpfs over each, the child on the way bound back into it): the users' servers run this
    Python as they would one installed under /opt. Nothing changes outside the namespace."""
    script = ["set -e"]
    for i, (folder, child) in enumerate(_blocked()):
        keep = top / f"ns-{i}"
        keep.mkdir(exist_ok=True)
        script += [f"mount --bind '{child}' '{keep}'", f"mount -t tmpfs -o mode=0711 tmpfs '{folder}'",
                   f"mkdir -p '{child}'", f"mount --move '{keep}' '{child}'"]
    script.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "\n".join(script), "sh", *map(str, cmd)]


@contextlib.contextmanager
def unix_users(names):
    """Create the Unix users ``names`` (with homes); remove them and their homes at the end."""
    made = []
    try:
        for n in names:
            subprocess.run(["useradd", "-m", "-s", "/bin/bash", n], check=True, capture_output=True)
            made.append(n)
        yield names
    finally:
        for n in made:
            subprocess.run(["userdel", "-r", "-f", n], capture_output=True)


@contextlib.contextmanager
def hub(setup: Path, port: int, password: str, log: Path):
    """JupyterHub on the generated config; yields its URL; stopped (with the users' servers) at the end."""
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
               REGLOSS_HUB_PASSWORD=password)
    with open(log, "wb") as out:
        p = subprocess.Popen(in_namespace([BIN / "jupyterhub", "-f", setup / "jupyterhub_config.py"], setup.parent),
                             cwd=setup, env=env,
                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/hub/api/", p, 90, "JupyterHub", log)
        yield base
    except BaseException:
        print(f"JupyterHub's log (end):\n{log.read_text()[-6000:]}")
        raise
    finally:
        p.terminate()  # the Hub stops the users' servers and its proxy
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()


def _answered(release: Path, replace: dict) -> nbformat.NotebookNode:
    """The release notebook with its solution cells from ``replace`` and its written answers answered."""
    nb = nbformat.read(str(release / NB), as_version=4)
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade_id") in replace:
            c.source = replace[meta["grade_id"]]
        elif meta.get("solution") and c.cell_type == "markdown":
            c.source = "My answer: MSE squares the error, L1 does not; the gradients follow."
    return nb


def _wrong_l1():
    (entry,) = [e for e in all_entries() if e.assignment == A and e.cell == "l1_loss" and e.name == "always-sum"]
    return entry.source


def _login(browser, base, user, password):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{base}/hub/login")
    page.fill("input#username_input", user)
    page.fill("input#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{user}/lab.*"), timeout=120_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    return page


def _nbgrader_menu(page) -> list[str]:
    """The items of JupyterLab's Nbgrader menu (left open)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
    items.first.wait_for()
    return [t.strip() for t in items.all_inner_texts() if t.strip()]


def _assignment_list(page) -> list[str]:
    """Open nbgrader's Assignment List from the Nbgrader menu; returns the menu's items."""
    items = _nbgrader_menu(page)
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    page.get_by_text("Released assignments").first.wait_for(timeout=60_000)
    with contextlib.suppress(Exception):  # JupyterLab's "news?" toast, over the list's corner
        page.locator(".jp-toast-button", has_text="No").click(timeout=3000)
    return items


def _row(page, section: str):
    """The row of 01 in the Assignment List's ``section`` (released, fetched, submitted)."""
    return page.locator(f"#{section}_assignments_list .list_item").filter(has_text=A).first


def _validate(page) -> str:
    """Validate the fetched notebook from the Assignment List; returns nbgrader's verdict dialog."""
    _row(page, "fetched").locator("a.assignment-notebooks-link").click()
    button = page.locator("#fetched_assignments_list button", has_text="Validate").first
    button.click()
    page.wait_for_function("() => [...document.querySelectorAll('#fetched_assignments_list button')]"
                           ".some(b => b.classList.contains('btn-success') || b.classList.contains('btn-danger'))",
                           timeout=240_000)
    dialog = page.locator(".jp-Dialog-content").last
    dialog.wait_for()
    return dialog.inner_text()


def test_hub_round_trip(browser_shots):
    shots = browser_shots
    tag = secrets.token_hex(3)
    alice, bob, teacher = f"rls{tag}a", f"rls{tag}b", f"rli{tag}"
    password = secrets.token_urlsafe(12)
    top = Path(tempfile.mkdtemp(prefix="regloss-hub-"))  # the users' servers read the set-up: not in a 0700 tmp
    top.chmod(0o755)
    port = _free_port()
    try:
        with unix_users([alice, bob, teacher]):
            exchange, setup = top / "exchange", top / "setup"
            _run([str(BIN / "regloss"), "hub-config", "--course", COURSE, "--exchange", str(exchange),
                  "--out", str(setup), "--students", f"{alice},{bob}", "--instructors", teacher,
                  "--authenticator", "dummy", "--port", str(port), "--hub-port", str(_free_port()),
                  "--proxy-api-port", str(_free_port()), "--check-port", str(_free_port()),
                  "--check-assignments", A], cwd=ROOT)
            assert oct(exchange.stat().st_mode & 0o7777) == "0o1777"
            instructor_env = {"JUPYTER_CONFIG_PATH": f"{setup}/jupyter-instructor:{setup}/jupyter"}

            # the instructor releases 01 to the exchange from their course folder (nbgrader's release/)
            course = top / "course"
            shutil.copytree(ROOT / "notebooks" / A, course / "release" / A)
            _run(["chown", "-R", f"{teacher}:", str(course)])
            _run([str(BIN / "nbgrader"), "release_assignment", A], user=teacher, top=top, cwd=course,
                 env=instructor_env)
            assert (exchange / COURSE / "outbound" / A / NB).is_file()
            # nbgrader's modes: students write their submissions into inbound and list nothing there
            assert oct((exchange / COURSE / "inbound").stat().st_mode & 0o7777) == "0o2733"

            with hub(setup, port, password, top / "hub.log") as base, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    _round_trip(browser, base, shots, exchange, top, password, alice, bob, teacher)
                finally:
                    browser.close()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _round_trip(browser, base, shots, exchange: Path, top: Path, password, alice, bob, teacher):
    page = _login(browser, base, teacher, password)
    items = _nbgrader_menu(page)
    page.screenshot(path=str(shots / "hub-0-instructor-menu.png"))
    assert {"Formgrader", "Assignment List"} <= set(items), items
    assert page.request.get(f"{base}/user/{teacher}/formgrader").status == 200
    page.context.close()

    pages = {}
    sol = solution_sources(A)
    answers = {alice: sol, bob: {**sol, "l1_loss": _wrong_l1()}}
    for n, student in enumerate((alice, bob), 1):
        page = pages[student] = _login(browser, base, student, password)
        items = _assignment_list(page)
        assert "Assignment List" in items and not {"Formgrader", "Create Assignment", "Course List"} & set(items), \
            items
        assert page.request.get(f"{base}/user/{student}/formgrader").status == 404  # the server extension is off
        row = _row(page, "released")
        row.wait_for()
        page.screenshot(path=str(shots / f"hub-{n}-{student}-1-released.png"))
        row.get_by_role("button", name="Fetch").click()
        _row(page, "fetched").wait_for()
        fetched = Path(pwd.getpwnam(student).pw_dir) / A
        assert (fetched / NB).is_file()
        # the student's work: the release answered (alice right, bob with a wrong l1_loss)
        nbformat.write(_answered(fetched, answers[student]), str(fetched / NB))
        _run(["chown", f"{student}:", str(fetched / NB)])
        if student == bob:  # Validate runs the whole notebook: once, for the wrong answer (it says why)
            verdict = _validate(page)
            page.screenshot(path=str(shots / f"hub-{n}-{student}-2-validated.png"))
            assert "l1_loss" in verdict and "Success" not in verdict, verdict
            page.locator(".jp-Dialog-button").last.click()
        _row(page, "fetched").get_by_role("button", name="Submit").click()
        _row(page, "submitted").wait_for()
        page.screenshot(path=str(shots / f"hub-{n}-{student}-3-submitted.png"))

    _official_checks(top, alice, bob)
    inbound = exchange / COURSE / "inbound"
    assert sorted(p.name.split("+")[0] for p in inbound.iterdir()) == [alice, bob]
    out = top / "run"
    summary = _run([str(BIN / "regloss"), "grade", A, "--exchange", str(exchange), "--course", COURSE,
                    "--out", str(out), "--workers", "2", "--timeout", "120", "--no-progress"], cwd=ROOT,
                   timeout=600)
    print(summary)
    assert "feedback released through the exchange for 2 students" in summary, summary
    with open(out / "grades.csv", newline="") as f:
        score = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert score[alice] > score[bob], score
    # nbgrader's feedback folder: a student opens a file by its name (a hash of their secret), lists nothing
    feedback_dir = exchange / COURSE / "feedback"
    assert oct(feedback_dir.stat().st_mode & 0o777) == "0o711"
    assert len(list(feedback_dir.glob("*.html"))) == 2
    listing = subprocess.run(in_namespace(["runuser", "-u", alice, "--", "ls", feedback_dir], top),
                             capture_output=True)
    assert listing.returncode != 0

    for n, student in enumerate((alice, bob), 1):
        other = bob if student == alice else alice
        page = pages[student]
        page.locator("#refresh_assignments_list").click()
        _row(page, "submitted").get_by_role("button", name="Fetch Feedback").click()
        page.get_by_text("(view feedback)").first.wait_for(timeout=60_000)
        page.screenshot(path=str(shots / f"hub-{n}-{student}-4-feedback-fetched.png"))
        home = Path(pwd.getpwnam(student).pw_dir)
        htmls = list((home / A / "feedback").glob("*/*.html"))
        assert [h.name for h in htmls] == [f"{A}.html"], htmls  # one file: their own notebook's feedback
        page.goto(f"{base}/user/{student}/files/{htmls[0].relative_to(home)}")
        text = page.inner_text("body")
        page.screenshot(path=str(shots / f"hub-{n}-{student}-5-feedback.png"))
        assert f"{A} (Score: {score[student]:.1f} / " in text, text[:300]
        assert f"(Score: {score[other]:.1f} / " not in text.splitlines()[0], text[:300]
        if student == bob:
            assert "0.0 / 1.0" in text  # the failed l1_loss test


def _server_env(user) -> dict:
    """The environment JupyterHub gave ``user``'s server (what their kernels inherit)."""
    pids = subprocess.run(["pgrep", "-u", user, "-f", "jupyterhub-singleuser"], capture_output=True,
                          text=True).stdout.split()
    assert pids, f"no server of {user}"
    raw = Path(f"/proc/{pids[0]}/environ").read_bytes()
    return dict(kv.split("=", 1) for kv in raw.decode().split("\0") if "=" in kv)


def _official_checks(top: Path, alice, bob):
    """The check service as the Hub's managed service: each student runs the one line with what
    their server was given (the Hub's token of that server, $REGLOSS_CHECK_URL through the proxy)
    and gets their own official result; a student's Hub token never reads the attempt log."""
    results = {}
    for student in (alice, bob):
        given = _server_env(student)
        assert given["REGLOSS_CHECK_URL"].endswith("/services/regloss-check"), given.get("REGLOSS_CHECK_URL")
        env = {k: given[k] for k in ("JUPYTERHUB_API_TOKEN", "REGLOSS_CHECK_URL")}
        nb = Path(pwd.getpwnam(student).pw_dir) / A / NB
        code = ("import json; from regloss import official_check; from regloss.official import check_notebook; "
                f"official_check(notebook={str(nb)!r}); r = check_notebook(notebook={str(nb)!r}); "
                "print('RESULT', json.dumps(r))")
        out = _run([sys.executable, "-c", code], user=student, top=top, env=env, timeout=600)
        results[student] = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
        assert "official check:" not in out, out  # no refusal
        req = urllib.request.Request(given["REGLOSS_CHECK_URL"] + f"/api/attempts/{A}",
                                     headers={"Authorization": f"token {given['JUPYTERHUB_API_TOKEN']}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=30)
        assert refused.value.code == 403
    assert results[alice]["student_id"] == alice and results[bob]["student_id"] == bob
    assert results[alice]["score"] == results[alice]["max_score"] > results[bob]["score"]
    failed = [t for t in results[bob]["tests"] if not t["passed"]]
    assert failed and all(t["id"].startswith("test_l1_loss") for t in failed), failed


@pytest.fixture
def browser_shots(tmp_path_factory):
    folder = Path(os.environ.get("REGLOSS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}", file=sys.__stdout__, flush=True)
    return folder
