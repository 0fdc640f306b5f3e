"""``from regloss import official_check``: finds the notebook, sends it with the token, shows
the service's answer as a table, and says why when refused (the stand-in grader)."""

from __future__ import annotations

import re
import sys

import pytest

import regloss
from regloss.grading.service.rate import Rate
from regloss.official import CheckError, CheckReport, check_notebook, find_notebook
from tests.grading.service.helpers import A, FakeGrader, notebook, running, student_token


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for k in ("REGLOSS_CHECK_URL", "REGLOSS_TOKEN", "JUPYTERHUB_API_TOKEN", "JPY_SESSION_NAME"):
        monkeypatch.delenv(k, raising=False)
    (tmp_path / f"{A}.ipynb").write_bytes(notebook())
    return tmp_path


def test_official_check_is_importable_from_regloss_lazily():
    assert regloss.official_check is sys.modules["regloss.official"].official_check
    with pytest.raises(AttributeError):
        regloss.no_such_thing  # noqa: B018


def test_the_notebook_is_found(folder, monkeypatch):
    assert find_notebook() == folder / f"{A}.ipynb"
    (folder / "other.ipynb").write_bytes(notebook())
    with pytest.raises(CheckError, match="which notebook"):
        find_notebook()
    monkeypatch.setenv("JPY_SESSION_NAME", f"course/{A}/{A}.ipynb")  # relative to the server's root
    assert find_notebook() == folder / f"{A}.ipynb"
    with pytest.raises(CheckError, match="no notebook at"):
        find_notebook("missing.ipynb")


def test_a_check_through_the_environment_shows_a_table(folder, monkeypatch, capsys):
    with running(FakeGrader(), folder / "a.db", rate=Rate(3, 1)) as r:
        monkeypatch.setenv("REGLOSS_CHECK_URL", r.url + "/")
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", student_token(9))  # inside a Hub
        res = check_notebook()
        assert (res["student_id"], res["score"], res["remaining"]) == ("s009", 1.0, 2)
        monkeypatch.setenv("REGLOSS_TOKEN", student_token(8))  # the course's own token first
        regloss.official_check()
        out = capsys.readouterr().out
    assert "official check for s008: 1 / 2 points" in out and "2 check(s) left" in out  # s008 had none yet
    assert re.search(r"test_l1_loss__hidden +yes +FAILED +0/1", out) and "torch says 1.0" in out
    page = CheckReport(res)._repr_html_()
    assert "<table>" in page and "<code>test_l1_loss__visible</code>" in page


@pytest.mark.parametrize(("setup", "says"), [
    ({}, "no grading service"),
    ({"url": True}, "no token"),
    ({"url": True, "token": "nobody-at-all"}, "does not know your token"),
    ({"url": True, "token": student_token(1), "assignment": "99_x"}, "HTTP 404"),
    ({"url": "http://127.0.0.1:9", "token": student_token(1)}, "cannot reach"),
    ({"url": True, "token": student_token(1), "rate": True}, "try again in 60 min"),
])
def test_why_not_is_said(folder, capsys, setup, says):
    with running(FakeGrader(), folder / "a.db", rate=Rate(1, 1)) as r:
        url = r.url if setup.get("url") is True else setup.get("url")
        if setup.get("rate"):
            check_notebook(url, setup["token"])
        regloss.official_check(url, setup.get("token"), assignment=setup.get("assignment"))
    assert says in capsys.readouterr().out


def test_official_imports_only_the_standard_library():
    """It runs in the student's kernel, where ``regloss`` must stay light (IPython only if present, lazily)."""
    import ast
    from pathlib import Path

    import regloss.official

    tree = ast.parse(Path(regloss.official.__file__).read_text(encoding="utf-8"))
    tops = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    tops |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert tops - {"__future__"} <= set(sys.stdlib_module_names) | {"IPython"}
