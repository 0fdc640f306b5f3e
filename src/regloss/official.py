"""``official_check()``: a student asks the course's grading service for the official result.

One line in the notebook::

    from regloss import official_check; official_check()

sends the notebook being run, as last saved, to the service (``regloss serve``, issue 25)
with the student's token, and shows the result: the score and, per test (hidden tests
included: pass or fail and the judge's message, never their code), a table (HTML in
Jupyter, text elsewhere). The grade comes from the instructor's judge on the server,
never from this process.

Where things come from, first found wins:

* the service: ``url``, else ``$REGLOSS_CHECK_URL`` (``http://HOST:PORT``);
* the token: ``token``, else ``$REGLOSS_TOKEN``, else ``$JUPYTERHUB_API_TOKEN`` (inside a
  JupyterHub, the Hub's token of this student's server);
* the notebook: ``notebook``, else the kernel's notebook (``$JPY_SESSION_NAME``, which
  Jupyter Server gives the kernel), else the one notebook of the current folder;
* the assignment: ``assignment``, else the notebook's file name (``01_l1_mse.ipynb``).

Only the standard library is used here.
"""

from __future__ import annotations

import html
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

URL_ENV, TOKEN_ENV, HUB_TOKEN_ENV = "REGLOSS_CHECK_URL", "REGLOSS_TOKEN", "JUPYTERHUB_API_TOKEN"


class CheckError(RuntimeError):
    """The check could not be made, or the service refused it (the message says why)."""


def find_notebook(notebook: str | os.PathLike | None = None) -> Path:
    """The notebook to send: the given path, the kernel's notebook, or the folder's only one."""
    if notebook is not None:
        p = Path(notebook).expanduser()
        if not p.is_file():
            raise CheckError(f"no notebook at {p}")
        return p
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        for p in (Path(session), Path.cwd() / Path(session).name):  # the kernel runs in the notebook's folder
            if p.suffix == ".ipynb" and p.is_file():
                return p
    here = sorted(p for p in Path.cwd().glob("*.ipynb") if not p.name.startswith("."))
    if len(here) == 1:
        return here[0]
    raise CheckError("cannot tell which notebook to send: give it, official_check(notebook='01_l1_mse.ipynb')")


def check_notebook(url: str | None = None, token: str | None = None, notebook=None, assignment: str | None = None,
                   timeout: float = 900) -> dict[str, Any]:
    """Send the notebook; the service's result (a dict), or :class:`CheckError`."""
    url = (url or os.environ.get(URL_ENV) or "").rstrip("/")
    if not url:
        raise CheckError(f"no grading service: set ${URL_ENV} (http://HOST:PORT) or give url=...")
    token = token or os.environ.get(TOKEN_ENV) or os.environ.get(HUB_TOKEN_ENV)
    if not token:
        raise CheckError(f"no token: set ${TOKEN_ENV} to the token your instructor gave you, or give token=...")
    path = find_notebook(notebook)
    assignment = assignment or path.stem
    req = urllib.request.Request(f"{url}/api/check/{assignment}", data=path.read_bytes(), method="POST",
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            result = json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise CheckError(_refusal(e.code, e.read(), assignment)) from None
    except (urllib.error.URLError, OSError) as e:
        raise CheckError(f"cannot reach the grading service at {url}: {getattr(e, 'reason', e)}") from None
    result["notebook"] = str(path)
    result["saved"] = path.stat().st_mtime
    return result


def _refusal(status: int, raw: bytes, assignment: str) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        data = {}
    why = data.get("error") or raw.decode(errors="replace")[:200]
    if status == 429:
        wait = int(data.get("retry_after", 0))
        return f"no checks left for now ({why}); try again in {_duration(wait)}"
    if status == 401:
        return f"the service does not know your token ({why})"
    return f"the service refused the check of {assignment} (HTTP {status}): {why}"


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _fmt(x) -> str:
    return f"{float(x):g}"


class CheckReport:
    """A result, shown as a table: HTML in Jupyter (``_repr_html_``), text otherwise (``str``)."""

    def __init__(self, result: dict[str, Any]):
        self.result = result

    def _head(self) -> str:
        r = self.result
        left = "" if r.get("remaining") is None else f"; {r['remaining']} check(s) left"
        saved = time.strftime("%H:%M:%S", time.localtime(r["saved"])) if "saved" in r else "?"
        return (f"{r['assignment']}, official check for {r['student_id']}: {_fmt(r['score'])} / "
                f"{_fmt(r['max_score'])} points (the notebook as saved at {saved}{left})")

    def __str__(self) -> str:
        rows = [("test", "hidden", "result", "points", "message")]
        for t in self.result["tests"]:
            rows.append((t["id"], "yes" if t["hidden"] else "", "passed" if t["passed"] else "FAILED",
                         f"{_fmt(t['points'])}/{_fmt(t['max_points'])}", " ".join(str(t["message"]).split())[:300]))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4] for r in rows]
        return "\n".join([self._head(), *lines])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(
            f"<tr><td><code>{e(t['id'])}</code></td><td>{'hidden' if t['hidden'] else 'visible'}</td>"
            f"<td style='color:{'green' if t['passed'] else '#b00'}'>{'passed' if t['passed'] else 'failed'}</td>"
            f"<td>{_fmt(t['points'])} / {_fmt(t['max_points'])}</td>"
            f"<td style='text-align:left;white-space:pre-wrap'>{e(str(t['message']))}</td></tr>"
            for t in self.result["tests"])
        return (f"<p><b>{e(self._head())}</b></p><table><thead><tr><th>test</th><th></th><th>result</th>"
                f"<th>points</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>")


def _show(obj) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(obj)
        return
    if get_ipython() is None:
        print(obj)
    else:
        display(obj)


def official_check(url: str | None = None, token: str | None = None, notebook=None, assignment: str | None = None,
                   timeout: float = 900) -> None:
    """Send the notebook being run (as last saved: save it first) to the course's grading
    service and show the official result (see the module docstring). Shows why not when the
    service refuses (no checks left, after the due date, ...)."""
    try:
        result = check_notebook(url, token, notebook, assignment, timeout)
    except CheckError as exc:
        _show(f"official check: {exc}")
        return
    _show(CheckReport(result))
