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
  (``latex2mathml``), which browsers display with no script and no network
  (:func:`render_math`): every delimiter Jupyter reads, code left alone, the
  TeX latex2mathml misreads rewritten first (row spacing ``\\\\[2pt]``, ``\\arg``,
  ``\\operatorname{log1p}``, ``\\text{a\\_b}``, ``aligned``, ...) and its MathML
  spaced as TeX spaces it (``\\log\\cosh e``, ``|e|``, ``e = -\\delta``).

:func:`finish_html` then removes the CDN MathJax script from the page, makes
every output block wrap and sets the maths in a font that stretches braces,
where the machine has one.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from xml.etree import ElementTree

from regloss.course import cells as nbcells
from regloss.grading.wire.problems import ANSI

HIDDEN_NOTE = "# This test cell holds hidden tests: their code is not shown. Its result and message are below."



def configure(cfg):
    """nbgrader's configuration for the feedback: its page is rendered by
    :class:`regloss.grading.worker.feedback_exporter.FeedbackExporter` (nbconvert's
    ``HTMLExporter``, keeping compiled templates between students)."""
    from regloss.grading.worker.feedback_exporter import FeedbackExporter

    cfg.GenerateFeedback.exporter_class = f"{FeedbackExporter.__module__}.{FeedbackExporter.__qualname__}"
    return cfg


# --------------------------------------------------------------------------- maths
# Where markdown holds code (left as it is): fenced blocks, then code spans of n backticks, which may
# run over single line breaks but not over a blank line (CommonMark's rules, as the page renders them).
_CODE = re.compile(r"(^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\2[`~]*[ \t]*$|\Z)"
                   r"|(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\3(?!`))", re.S | re.M)
# The maths, with the delimiters nbconvert and Jupyter read: display ``$$...$$``, ``\\[...\\]`` and a bare
# ``\begin{env}...\end{env}``; inline ``\\(...\\)`` and ``$...$`` within a paragraph, whose closing ``$``
# is not followed by a digit (``$5 and $10`` is prose).
_MATH = re.compile(r"(?<![\\$])\$\$(?P<display>.+?)(?<!\\)\$\$"
                   r"|(?<!\\)\\\\\[(?P<display_latex>.+?)\\\\\]"
                   r"|(?P<environment>\\begin\{(?P<env>[a-zA-Z]+\*?)\}.*?\\end\{(?P=env)\})"
                   r"|(?<!\\)\\\\\((?P<inline_latex>.+?)\\\\\)"
                   r"|(?<![\\$])\$(?P<number>\d(?:\\.|[^\\$\n]|\n(?![ \t]*\n))*?)(?<![\s\\])\$(?!\d)"
                   r"|(?<![\\$])\$(?!\s*[\d$])(?P<inline>(?:\\.|[^\\$\n]|\n(?![ \t]*\n))+?)\$(?!\d)", re.S)

#: Row spacing after ``\\`` (``\\[2pt]``), which latex2mathml would print as ``[2pt]``.
_ROW_SPACING = re.compile(r"(\\\\)\*?\s*\[\s*-?(?:\d+\.?\d*|\.\d+)\s*(?:pt|em|ex|mm|cm|in|mu|bp|pc|dd|cc|sp)\s*\]")
#: Environments latex2mathml does not know, and the one it renders alike (its ``align*``: columns
#: right and left, unnumbered, as MathJax shows ``align``).
_ENVIRONMENTS = {"aligned": "align*", "align": "align*", "gathered": "matrix", "gather": "matrix",
                 "gather*": "matrix", "dcases": "cases"}
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{(" + "|".join(re.escape(e) for e in _ENVIRONMENTS) + r")\}")
#: Operator names of amsmath that latex2mathml does not know (it would print ``\arg``).
_OPERATOR_NAMES = ("arg",)
_OPERATOR = re.compile(r"(?<!\\)\\(" + "|".join(_OPERATOR_NAMES) + r")(?![A-Za-z])")
#: ``\operatorname{...}``: latex2mathml reads only letters in the name.
_OPERATORNAME = re.compile(r"\\operatorname\*?\s*\{([^{}]*)\}")
#: Commands whose argument is text, read by latex2mathml up to the first ``}``.
_TEXT_COMMAND = re.compile(r"\\(?:text(?:bf|it|md|normal|rm|sf|tt|up)?|mbox|hbox|emph)\s*\{")
#: Replacements of commands latex2mathml gets wrong: ``\sim`` is printed as ``~``, ``\!`` as an
#: invalid negative space.
_COMMANDS = ((re.compile(r"\\sim(?![A-Za-z])"), r"\\thicksim"),
             (re.compile(r"(?<!\\)\\!|\\negthinspace(?![A-Za-z])"), ""))
#: Characters markdown reads in text (emphasis, code, links, tables, maths): written as references in MathML.
_MARKDOWN_CHARACTERS = {ord(c): f"&#x{ord(c):X};" for c in "\\`*_[]~$|"}
#: Operators latex2mathml makes identifiers, losing an operator's spacing.
_OPERATOR_CHARACTERS = {"±", "∓"}
#: What TeX spaces as a letter (``|e|``, ``a/b``) and a browser as an operator between two operands.
_ORDINARY = {"|", "‖", "/"}
#: Signs that are unary after an operator (``= -\delta``, ``[-1, 1]``), and what closes a group before
#: a binary one; a browser makes them unary only first in a row.
_SIGNS = {"−", "+", "±", "∓"}
_CLOSING = {")", "]", "}", "⟩", "|", "‖"}
_OPENING = {"(", "[", "{", "⟨"}
#: Elements whose children are set in a row, and the scripts whose first child is the one that is spaced.
_ROWS = {"math", "mrow", "mtd", "mstyle", "msqrt", "mpadded"}
_SCRIPTS = {"msub", "msup", "msubsup", "munder", "mover", "munderover"}
#: An operator's name (``\log``, ``\min``, ``\operatorname{clip}``, ``arg min``): latex2mathml makes
#: some identifiers, set with no space around (``logcoshe``).
_NAME = re.compile(r"[A-Za-z][A-Za-z\u2006\u2009 ]*[A-Za-z]")
_THIN = "0.1667em"


def _closing_brace(tex: str, start: int) -> int | None:
    """Where the group opened just before ``start`` closes in ``tex`` (None if it does not)."""
    depth, i = 0, start
    while i < len(tex):
        if tex[i] == "\\":
            i += 2
            continue
        if tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def _plain_text(text: str) -> str:
    """The argument of a text command as latex2mathml can read it: TeX's escaped characters
    (``\\_``, ``\\%``, ...) and a ``%`` as character references, grouping braces dropped."""
    text = re.sub(r"\\([_%&#${}])", lambda m: f"&#x{ord(m[1]):X};", text)
    return re.sub(r"[{}]", "", text).replace("%", "&#x25;")


def _text_commands(tex: str) -> str:
    """``tex`` with the argument of every text command (``\\text{...}``) made plain (see :func:`_plain_text`)."""
    out, pos = [], 0
    while (m := _TEXT_COMMAND.search(tex, pos)) is not None:
        end = _closing_brace(tex, m.end())
        if end is None:
            break
        out += [tex[pos:m.end()], _plain_text(tex[m.end():end]), "}"]
        pos = end + 1
    return "".join(out) + tex[pos:]


def _operator_name(m: re.Match[str]) -> str:
    """``\\operatorname{name}`` kept where latex2mathml reads it (letters), else ``\\mathrm{name}``."""
    name = m[1].strip()
    return m[0] if re.fullmatch(r"[A-Za-z ]+", name) else r"\mathrm{" + name + "}"


def _prepare_tex(tex: str) -> str:
    """TeX rewritten into what latex2mathml renders as the notebook's Jupyter does (MathJax).

    * ``<`` back from the ``&lt;`` :func:`regloss.grading.worker.inert.clean_markdown` may have
      written where it did not see maths;
    * row spacing ``\\\\[2pt]`` dropped (the row break kept);
    * ``aligned``, ``align``, ``gather(ed)`` and ``dcases`` as the environments latex2mathml knows;
    * ``\\arg`` as ``\\operatorname{arg}``; ``\\operatorname{log1p}`` (not only letters) upright;
    * text arguments (``\\text{grad\\_output}``) plain;
    * ``\\sim`` as the relation ``∼``, negative thin spaces dropped.
    """
    tex = tex.replace("&lt;", "<")
    tex = _ROW_SPACING.sub(lambda m: m[1], tex)
    tex = _ENVIRONMENT.sub(lambda m: rf"\{m[1]}{{{_ENVIRONMENTS[m[2]]}}}", tex)
    tex = _OPERATOR.sub(r"\\operatorname{\1}", tex)
    tex = _OPERATORNAME.sub(_operator_name, tex)
    tex = _text_commands(tex)
    for pattern, replacement in _COMMANDS:
        tex = pattern.sub(replacement, tex)
    return tex


#: The MathML attributes a page keeps: how maths is laid out. A student's ``\\href{javascript:...}``,
#: ``\\style{...}``, ``\\class{...}`` and background colours (latex2mathml writes them as ``href``,
#: ``style``, ``class``, ``mathbackground``) are dropped, like any other attribute.
MATHML_ATTRIBUTES = frozenset({
    "xmlns", "display", "mathvariant", "mathsize", "mathcolor", "displaystyle", "scriptlevel", "stretchy", "fence",
    "form", "separator", "symmetric", "largeop", "movablelimits", "accent", "accentunder", "lspace", "rspace",
    "minsize", "maxsize", "width", "height", "depth", "linethickness", "columnalign", "rowalign", "columnspacing",
    "rowspacing", "columnlines", "rowlines", "frame", "framespacing", "equalrows", "equalcolumns", "align",
    "columnspan", "rowspan", "notation", "open", "close", "separators", "bevelled", "numalign", "denomalign",
    "voffset", "lquote", "rquote"})


def _inert(math: ElementTree.Element) -> None:
    """Only :data:`MATHML_ATTRIBUTES` left on ``math``'s elements (the student wrote the TeX)."""
    for element in math.iter():
        for name in [a for a in element.attrib if a not in MATHML_ATTRIBUTES]:
            del element.attrib[name]


def _tidy(math: ElementTree.Element) -> None:
    """latex2mathml's tree made plain (its character references as characters) and spaced as TeX
    spaces it: ``±`` an operator, bars and slashes without an operator's spaces (but for ``\\left``
    and ``\\right``), signs after an operator unary, operator names spaced (:func:`_space_row`)."""
    for element in math.iter():
        element.text = html.unescape(element.text) if element.text else element.text
        element.tail = html.unescape(element.tail) if element.tail else element.tail
    for element in math.iter():
        if element.tag == "mi" and element.text in _OPERATOR_CHARACTERS:
            element.tag = "mo"
        elif element.tag == "mo" and element.text in _ORDINARY and element.get("fence") != "true":
            element.set("lspace", "0em")
            element.set("rspace", "0em")
    for row in [e for e in math.iter() if e.tag in _ROWS]:
        _space_row(row)


def _core(element: ElementTree.Element) -> ElementTree.Element:
    """The element a script is attached to (``\\min`` of ``\\min_\\mu``), or the element itself."""
    while element.tag in _SCRIPTS and len(element):
        element = element[0]
    return element


def _opens(element: ElementTree.Element | None) -> bool:
    return element is not None and element.tag == "mo" and (
        element.text in _OPENING or (element.get("fence") == "true" and element.get("form") == "prefix"))


def _space_row(row: ElementTree.Element) -> None:
    """A row's unary signs made prefixes, and its operator names made operators with TeX's thin
    spaces: none after one before a parenthesis (``\\log(x)``), none before one first in its row or
    after an operator."""
    cores = [_core(child) for child in row]
    for i, core in enumerate(cores):
        previous = cores[i - 1] if i else None
        following = cores[i + 1] if i + 1 < len(cores) else None
        after_operator = previous is not None and previous.tag == "mo"
        if (core.tag == "mo" and core.text in _SIGNS and after_operator and previous is not None
                and previous.text not in _CLOSING and previous.get("form") != "postfix"):
            core.set("form", "prefix")
        elif core.tag in ("mi", "mo") and _NAME.fullmatch(core.text or ""):
            core.tag = "mo"
            core.set("lspace", "0em" if after_operator or previous is None else _THIN)
            core.set("rspace", "0em" if _opens(following) else _THIN)


def _serialise(math: ElementTree.Element) -> str:
    """The MathML element on one line (markdown leaves it alone), XML-escaped, with the characters
    markdown would read in its text as character references."""
    out = ElementTree.tostring(math, encoding="unicode").replace("\n", " ")
    return re.sub(r">([^<]+)<", lambda m: ">" + m[1].translate(_MARKDOWN_CHARACTERS) + "<", out)


def _tex_to_mathml(tex: str, display: bool) -> str | None:
    """MathML for ``tex`` (``display``: a block), or None where latex2mathml cannot read it."""
    try:
        from latex2mathml.converter import convert_to_element

        math = convert_to_element(_prepare_tex(tex.strip()), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - leave what cannot be converted as it was
        return None
    _inert(math)
    _tidy(math)
    return _serialise(math)


def _render(m: re.Match[str]) -> str:
    """The MathML of one match of ``_MATH``, or the match as it was."""
    inline = next((m[g] for g in ("inline", "number", "inline_latex") if m[g] is not None), None)
    tex = inline if inline is not None else m["display"] or m["display_latex"] or m["environment"]
    got = _tex_to_mathml(tex, display=inline is None)
    return got if got is not None else m[0]


def render_math(markdown: str) -> str:
    """``markdown`` with its maths (``$...$``, ``$$...$$``, ``\\\\(...\\\\)``, ``\\\\[...\\\\]`` and
    ``\\begin{env}...\\end{env}``) replaced by MathML; fenced code and code spans are kept as they are."""
    out, pos = [], 0
    for code in _CODE.finditer(markdown):
        out += [_MATH.sub(_render, markdown[pos:code.start()]), code[0]]
        pos = code.end()
    return "".join(out) + _MATH.sub(_render, markdown[pos:])


def _library_frame(line):
    text = ANSI.sub("", line)
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


def prepare_notebook(path: Path, verdicts, tests, hidden_mode="message", withheld=frozenset()):
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
    withheld : set of str
        Test cells the kernel ran without their hidden tests
        (:mod:`regloss.grading.worker.hidden_tests`): their outputs say nothing of whether the
        cell passed in the student's notebook, so the result box does not say it either.
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
            html_box = result_box(v["passed"], v["message"], kernel_passed=None if gid in withheld else not errors)
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

_PAGE_CSS = """<style type="text/css">
div.output_area pre, div.output_subarea pre, div.output_text pre, .output pre {
  white-space: pre-wrap; word-break: break-word; overflow-x: visible; }
div.output_subarea { max-width: 100%; }
math[display="block"] { margin: .6em 0; }
/* a font with an OpenType MATH table, where the machine has one, stretches braces and brackets */
math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Math TeX Gyre",
  "Libertinus Math", math; }
mtd[columnalign="left"] { text-align: left; }
mtd[columnalign="right"] { text-align: right; }
</style>
"""


def finish_html(path: Path):
    """Drop the page's CDN MathJax (the maths is MathML already), make outputs wrap and set the maths
    in a math font (see the module docstring)."""
    text = Path(path).read_text(encoding="utf-8")
    text = _MATHJAX_SCRIPTS.sub("", text)
    text = text.replace("</head>", _PAGE_CSS + "</head>", 1)
    Path(path).write_text(text, encoding="utf-8")
