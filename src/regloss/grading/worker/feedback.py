"""Feedback HTML that teaches without revealing.

nbgrader renders feedback from the autograded notebook, which holds every
hidden test's source, seeds included, and puts a failed test's message at the
end of a long traceback in an unwrapped block; its template loads MathJax from
a CDN, so without a network the maths shows as raw TeX. Before nbgrader renders
it, :func:`prepare_notebook` rewrites a copy of the autograded notebook:

* each test cell starts with its result box: passed or failed, and the judge's
  message whole (the case and the likely mistake), wrapped;
* a hidden test's source is replaced by one line saying it is hidden
  (``--feedback-hidden message``, the default) and its outputs are dropped;
  ``--feedback-hidden code`` keeps the source;
* tracebacks lose the frames of ``regloss``'s own code, keeping the cell's lines
  and the final ``Error: message``;
* the maths of markdown cells is rendered to MathML on the server
  (``latex2mathml``), which browsers display with no script and no network.

:func:`finish_html` then removes the CDN MathJax script from the page and makes
every output block wrap.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from regloss.course import cells as nbcells

HIDDEN_NOTE = "# This test cell holds hidden tests: their code is not shown. Its result and message are below."

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MATH = re.compile(r"(?<![\\$])(\$\$)(.+?)(?<!\\)\$\$"  # display
                   r"|(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?![ \t]*\n))+?)(?<![\s\\])\$(?!\d)",  # inline, one paragraph
                   re.S)
_CODE_SPAN = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def configure(cfg):
    """nbgrader's configuration for the feedback: its page is rendered by
    :class:`regloss.grading.worker.feedback_exporter.FeedbackExporter` (nbconvert's
    ``HTMLExporter``, keeping compiled templates between students)."""
    from regloss.grading.worker.feedback_exporter import FeedbackExporter

    cfg.GenerateFeedback.exporter_class = f"{FeedbackExporter.__module__}.{FeedbackExporter.__qualname__}"
    return cfg


def _tex_to_mathml(tex, display):
    try:
        import latex2mathml.converter

        out = latex2mathml.converter.convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - leave what cannot be converted as it was
        return None
    # characters markdown would read are already entities in latex2mathml's output but for
    # letters; keep the element on one line so markdown leaves it alone
    return out.replace("\n", "")


def render_math(markdown):
    """``markdown`` with ``$...$`` and ``$$...$$`` replaced by MathML (code spans kept)."""
    parts = _CODE_SPAN.split(markdown)
    for i in range(0, len(parts), 2):  # even parts are outside code spans

        def repl(m):
            display = m.group(1) is not None
            tex = m.group(2) if display else m.group(3)
            got = _tex_to_mathml(tex, display)
            return got if got is not None else m.group(0)

        parts[i] = _MATH.sub(repl, parts[i])
    return "".join(parts)


def _library_frame(line):
    text = _ANSI.sub("", line)
    return bool(re.search(r"File [^\n]*[/\\]regloss[/\\](checks|grading|teaching|course)[/\\]", text))


def clean_traceback(lines):
    """A traceback (nbgrader's list of ANSI-coloured frames) without regloss's own frames."""
    return [t for t in lines if not _library_frame(t)]


def result_box(passed, message, kernel_passed=None):
    """The HTML shown first in a test cell's outputs (``kernel_passed``: the cell passed
    in the student's own notebook, which is then said when the judge failed it)."""
    if passed:
        head, colour, body = "Passed", "#2e7d32", ""
    else:
        head, colour = "Failed", "#c62828"
        if kernel_passed:
            head += (" <span style='font-weight: normal; color: #444'>(it passed in your notebook, but failed "
                     "when checked independently; the independent check is the grade)</span>")
        body = (f"<pre style='white-space: pre-wrap; word-break: break-word; margin: .4em 0 0 0; "
                f"font-size: 13px'>{html.escape(message or 'the test failed')}</pre>")
    return (f"<div class='regloss-result' style='border-left: 4px solid {colour}; padding: .4em .8em; "
            f"margin: .3em 0; background: #fafafa'><b style='color: {colour}'>{head}</b>{body}</div>")


def prepare_notebook(path: Path, verdicts, tests, hidden_mode="message"):
    """Rewrite the autograded notebook at ``path`` for the student's feedback (see the
    module docstring).

    Parameters
    ----------
    path : Path
    verdicts : dict
        grade id -> ``{"passed": bool, "message": str}`` (the judge's); may be empty.
    tests : dict
        grade id -> True when the test cell holds hidden tests.
    hidden_mode : {"message", "code"}
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        gid = nbcells.grade_id(cell)
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                o["traceback"] = clean_traceback(o.get("traceback", []))
            outputs.append(o)
        if gid in tests:
            v = verdicts.get(gid)
            errors = [o for o in outputs if o.get("output_type") == "error"]
            if v is None or v.get("judged", True) is False:  # nbgrader's own verdict, from the outputs
                v = {"passed": not errors,
                     "message": f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else ""}
            html_box = result_box(v["passed"], v["message"], kernel_passed=not errors)
            box = nbformat.v4.new_output("display_data", data={"text/html": html_box,
                                                               "text/plain": ("passed" if v["passed"] else
                                                                              "failed: " + v["message"])})
            if tests[gid] and hidden_mode != "code":
                cell.source = HIDDEN_NOTE
                outputs = []
            outputs.insert(0, box)
        cell.outputs = outputs
    nbformat.write(nb, str(path))


_MATHJAX_SCRIPTS = re.compile(
    r"<!-- Loading mathjax macro -->\s*"
    r"|<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
    r"|<script[^>]*src=[\"'][^\"']*mathjax[^\"']*[\"'][^>]*>\s*</script>", re.S | re.I)

_WRAP_CSS = """<style type="text/css">
div.output_area pre, div.output_subarea pre, div.output_text pre, .output pre {
  white-space: pre-wrap; word-break: break-word; overflow-x: visible; }
div.output_subarea { max-width: 100%; }
math[display="block"] { margin: .6em 0; }
</style>
"""


def finish_html(path: Path):
    """Drop the page's CDN MathJax (the maths is MathML already) and make outputs wrap."""
    text = Path(path).read_text(encoding="utf-8")
    text = _MATHJAX_SCRIPTS.sub("", text)
    text = text.replace("</head>", _WRAP_CSS + "</head>", 1)
    Path(path).write_text(text, encoding="utf-8")
