"""The feedback page's maths: every formula in every notebook's markdown becomes MathML on the
server (:func:`regloss.grading.worker.feedback.render_math`), and no TeX is left on the page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest

from regloss.grading.worker import feedback, inert

ROOT = Path(__file__).resolve().parents[3]
#: every notebook of the course, as the instructor holds it (a release holds a subset of its markdown)
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
MATHML = "{http://www.w3.org/1998/Math/MathML}"

_MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.S)
#: fenced code, then code spans (of n backticks, over single line breaks): where TeX-like text is code
_CODE = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\1[`~]*[ \t]*$|\Z)"
                   r"|(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\2(?!`)", re.S | re.M)
#: TeX left in text: a ``$`` that opens or closes maths (not a price, ``$5``, ``$ 5``, nor an escaped one),
#: a command, a row spacing
_TEX_IN_TEXT = re.compile(r"(?<!\\)\$(?=[^\d\s])|(?<=[^\s\\])\$(?!\d)|\\[A-Za-z]+|\[\s*-?[\d.]+\s*(?:pt|em|ex|mm)\s*\]")
_UNIT = re.compile(r"\d\s*(?:pt|em|ex|mm|cm|mu)$")


def markdown_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "markdown"]


def feedback_markdown(source: str) -> str:
    """A markdown cell as the feedback page gets it: made inert, then its maths rendered."""
    return feedback.render_math(inert.clean_markdown(source))


def tex_left_in_text(text: str) -> list[str]:
    """What of ``text`` (markdown or a page's text, its MathML removed) is TeX, outside code."""
    text = _CODE.sub(" ", _MATH_ELEMENT.sub(" ", text))
    return [text[max(0, m.start() - 40):m.end() + 40] for m in _TEX_IN_TEXT.finditer(text)]


def math_elements(text: str) -> list[ElementTree.Element]:
    """Every ``<math>`` element in ``text``, parsed as XML (a block that is not XML fails the test)."""
    return [ElementTree.fromstring(block) for block in _MATH_ELEMENT.findall(text)]


def tex_left_in_math(math: ElementTree.Element) -> list[str]:
    """What of a MathML element's text is TeX: a command, a ``$``, a dimension (``\\\\[2pt]``'s ``2pt``)."""
    left = []
    for element in math.iter():
        if element.text and ("\\" in element.text or "$" in element.text
                             or (element.tag == f"{MATHML}mn" and _UNIT.search(element.text))):
            left.append(element.text)
    return left


def mathml(tex: str, display: bool = False) -> ElementTree.Element:
    """The one MathML element ``render_math`` makes of ``tex``."""
    out = feedback.render_math(f"$${tex}$$" if display else f"${tex}$")
    (math,) = math_elements(out)
    assert _MATH_ELEMENT.sub("", out) == "", out
    return math


def text_of(math: ElementTree.Element, tag: str) -> list[str]:
    return [e.text or "" for e in math.iter(f"{MATHML}{tag}")]


def stretchy_braces(math: ElementTree.Element) -> list[ElementTree.Element]:
    return [e for e in math.iter(f"{MATHML}mo") if e.text == "{" and e.get("stretchy") == "true"]


# --------------------------------------------------------------------------- every notebook


def test_every_notebook_is_found():
    assert len(NOTEBOOKS) >= 8 and all(p.parent.name == p.stem for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_formula_of_a_notebook_is_mathml(path):
    rendered = 0
    for source in markdown_cells(path):
        out = feedback_markdown(source)
        assert not tex_left_in_text(out), f"TeX left in a markdown cell: {tex_left_in_text(out)}"
        for math in math_elements(out):
            assert not tex_left_in_math(math), f"TeX inside MathML: {tex_left_in_math(math)}"
            rendered += 1
    assert rendered > 20


# --------------------------------------------------------------------------- constructs

HUBER = r"""
\ell_\delta(e) =
\begin{cases}
\tfrac12\, e^2 & \text{if } |e| < \delta \quad\text{(quadratic branch)}\\[2pt]
\delta\,\bigl(|e| - \tfrac12\,\delta\bigr) & \text{if } |e| \ge \delta \quad\text{(linear branch)}
\end{cases}
"""


def test_cases_with_row_spacing_has_a_stretchy_brace_and_no_spacing_left():
    math = mathml(HUBER, display=True)
    assert math.get("display") == "block"
    assert len(stretchy_braces(math)) == 1
    assert len(list(math.iter(f"{MATHML}mtr"))) == 2
    assert not tex_left_in_math(math) and "2pt" not in ElementTree.tostring(math, encoding="unicode")
    assert "(quadratic branch)" in [t.replace("\xa0", " ") for t in text_of(math, "mtext")]


@pytest.mark.parametrize("spacing", [r"\\[6pt]", r"\\ [-1.5em]", r"\\*[3mm]"])
def test_any_row_spacing_is_dropped(spacing):
    math = mathml(r"\begin{array}{ll} a & b " + spacing + r" c & d \end{array}")
    assert len(list(math.iter(f"{MATHML}mtr"))) == 2 and not tex_left_in_math(math)


def test_left_brace_right_dot_stretches():
    math = mathml(r"f(x) = \left\{ \begin{array}{ll} 1 & x > 0 \\ 0 & x \le 0 \end{array} \right.")
    assert len(stretchy_braces(math)) == 1 and not tex_left_in_math(math)


def test_dcases_is_cases():
    assert len(stretchy_braces(mathml(r"\begin{dcases} a & b \\ c & d \end{dcases}"))) == 1


@pytest.mark.parametrize("tex, operator", [(r"\hat\mu = \arg\min_\mu \sum_i \rho(x_i - \mu)", "arg"),
                                           (r"\operatorname{clip}(e, -\delta, \delta)", "clip"),
                                           (r"\operatorname*{median}_i x_i", "median")])
def test_operator_names(tex, operator):
    math = mathml(tex)
    assert operator in text_of(math, "mo") + text_of(math, "mi") and not tex_left_in_math(math)


def test_an_operator_name_with_digits_reads_whole():
    math = mathml(r"\operatorname{log1p}(u)")
    assert "".join(e.text or "" for e in math.iter() if e.tag in (f"{MATHML}mi", f"{MATHML}mn")).startswith("log1p")
    assert not [e for e in math.iter(f"{MATHML}mo") if not e.text]  # latex2mathml alone leaves an empty <mo/>


@pytest.mark.parametrize("markdown", [r"whose $\psi' $ is not a function", r"whose $\psi'$ is", r"$ \psi'$"])
def test_a_prime_with_spaces_inside_the_dollars(markdown):
    out = feedback.render_math(markdown)
    (math,) = math_elements(out)
    assert "′" in text_of(math, "mi") and not tex_left_in_text(out)


def test_text_inside_fractions_and_escaped_underscores():
    math = mathml(r"\frac{\partial S}{\partial \text{input}} = \text{grad\_output} \cdot \dfrac{\partial L}"
                  r"{\partial \text{input}}, \quad \tfrac{\text{a}}{2}")
    assert {"input", "grad_output", "a"} <= set(text_of(math, "mtext"))
    assert len(list(math.iter(f"{MATHML}mfrac"))) == 3 and not tex_left_in_math(math)


@pytest.mark.parametrize("tex, text", [(r"\text{100\% of a \& b, \#1, \$2}", "100% of a & b, #1, $2"),
                                       (r"\text{a {b} c}", "a b c"), (r"\text{%x}", "%x"), (r"\text{a < b}", "a < b")])
def test_text_arguments_are_plain_and_stay_xml(tex, text):
    out = feedback.render_math(f"${tex}$")
    (math,) = math_elements(out)
    assert [t.replace("\xa0", " ") for t in text_of(math, "mtext")] == [text]
    assert "$" not in re.sub(r"<[^>]*>", "", out)  # a $ in the page's text would open maths for nbconvert


@pytest.mark.parametrize("tex, tag, text", [(r"\mathrm{d}x", "mi", "d"), (r"\lvert x\rvert", "mo", "|"),
                                            (r"Z \sim \mathcal N(0, 1)", "mo", "∼"), (r"e \pm \delta", "mo", "±"),
                                            (r"\lVert w\rVert^2", "mo", "‖")])
def test_symbols(tex, tag, text):
    math = mathml(tex)
    assert text in text_of(math, tag) and not tex_left_in_math(math)


def test_operator_names_are_spaced_as_tex_spaces_them():
    math = mathml(r"\log\cosh e = \operatorname{sign}(e) + \min_\mu x")
    names = {e.text: (e.get("lspace"), e.get("rspace")) for e in math.iter(f"{MATHML}mo") if e.text
             and e.text.isalpha()}
    assert names == {"log": ("0em", "0.1667em"), "cosh": ("0em", "0.1667em"),  # "log cosh e", not "logcoshe"
                     "sign": ("0em", "0em"), "min": ("0em", "0.1667em")}  # "sign(e)"; after "=" and "+" their space


def test_signs_after_an_operator_are_unary_and_bars_unspaced():
    math = mathml(r"e = -\delta, [-1, 1], |e| - 1")
    assert [e.get("form") for e in math.iter(f"{MATHML}mo") if e.text == "−"] == ["prefix", "prefix", None]
    assert all(e.get("lspace") == e.get("rspace") == "0em" for e in math.iter(f"{MATHML}mo") if e.text == "|")


def test_spaces_are_mspaces():
    math = mathml(r"a\,b\;c\quad d\qquad e\!f")
    widths = [e.get("width") for e in math.iter(f"{MATHML}mspace")]
    assert widths == ["0.167em", "0.278em", "1em", "2em"]  # \! (a negative space latex2mathml spells wrongly) dropped


@pytest.mark.parametrize("environment", ["aligned", "align", "align*", "split", "gathered"])
def test_aligned_environments_are_tables(environment):
    tex = rf"\begin{{{environment}}} a &= b + c \\ d &= e \end{{{environment}}}".replace(
        "&", "" if environment == "gathered" else "&")
    for markdown in (f"$${tex}$$", tex):  # in dollars, and bare as nbconvert and Jupyter read it
        out = feedback.render_math(markdown)
        (math,) = math_elements(out)
        assert len(list(math.iter(f"{MATHML}mtr"))) == 2 and not tex_left_in_math(math)
        assert not [e for e in math.iter() if e.text and "(1)" in e.text]  # no equation numbers


def test_multiline_display_and_inline_maths():
    out = feedback.render_math("The sum\n$$\n\\sum_i e_i\n  + 1\n$$\nand $a +\nb$ across a line,\n\n$c\n\nd$ not.")
    assert len(math_elements(out)) == 2 and "$c\n\nd$" in out


@pytest.mark.parametrize("markdown", ["*the error $e$*", "**$\\delta$**", "(at $e = 0$),", "$\\delta$-insensitive",
                                      "_$e$_.", "[$x$]", "| $\\ell_i$ | a |", "$e$'s", "\\\\(x^2\\\\) and \\\\[y\\\\]"])
def test_maths_next_to_markup_and_punctuation(markdown):
    out = feedback.render_math(markdown)
    assert math_elements(out) and not tex_left_in_text(out)


@pytest.mark.parametrize("markdown, maths", [("costs $5 and $10, or $e$", 1), ("pay $5, then $6", 0),
                                             ("prices: $5 and $ 6", 0), ("an escaped \\$ and \\$x", 0),
                                             ("$2$ and $-2$", 2), ("$10h$ of the switch", 1)])
def test_dollars_of_prose_are_not_maths(markdown, maths):
    out = feedback.render_math(markdown)
    assert len(math_elements(out)) == maths and not tex_left_in_text(out)


def test_code_is_left_alone_and_a_span_may_break_a_line():
    markdown = ("`loss_grad(input, target,\nreduction)` gives exactly $\\partial L / \\partial \\text{input}$ for "
                "`\"mean\"`; ``a `$x$` b`` and\n```python\nprice = \"$5 $x$\"\n```\n~~~\n$y$\n~~~\nthen $z$.")
    out = feedback.render_math(markdown)
    assert len(math_elements(out)) == 2
    assert "``a `$x$` b``" in out and 'price = "$5 $x$"' in out and "~~~\n$y$\n~~~" in out
    assert not tex_left_in_text(out)


def test_a_less_than_sign_clean_markdown_escaped_is_read_back():
    out = feedback_markdown("if $x\n<y$ then")  # inline maths over a line break: clean_markdown escapes the <
    (math,) = math_elements(out)
    assert "<" in text_of(math, "mo")


def test_characters_markdown_reads_are_references_in_mathml():
    out = feedback.render_math(r"$\text{a*b_c} \mid x^{*}_{[1]} \sim \$$")
    inner = out.split(">", 1)[1]
    assert not set("*_[]~$|\\`") & set(re.sub(r"<[^>]*>", "", inner)), out
    assert math_elements(out)


def test_what_latex2mathml_cannot_read_is_left_as_it_was():
    for markdown in (r"see $x^$ here", r"see $\left( a$ here"):
        assert feedback.render_math(markdown) == markdown


# --------------------------------------------------------------------------- a whole page


def _feedback_page(path: Path, tmp_path: Path) -> str:
    """The feedback HTML of ``path`` as nbgrader renders it, without a gradebook: made inert, prepared,
    exported by the feedback exporter with nbgrader's feedback template, finished."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from regloss.grading.worker.feedback_exporter import FeedbackExporter

    nb = nbformat.read(str(path), as_version=4)
    inert.make_inert(nb)
    copy = tmp_path / path.name
    nbformat.write(nb, str(copy))
    feedback.prepare_notebook(copy, {}, {})
    nb = nbformat.read(str(copy), as_version=4)
    for cell in nb.cells:  # what nbgrader's GetGrades puts from the gradebook
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader.setdefault("score", 0)
            cell.metadata.nbgrader.setdefault("points", 0)
    cfg = feedback.configure(Config())
    app = GenerateFeedback(coursedir=CourseDirectory(config=cfg), config=cfg)
    resources = {"nbgrader": {"notebook": path.stem, "score": 0, "max_score": 0, "late_penalty": 0}}
    body, _ = FeedbackExporter(config=app.config).from_notebook_node(nb, resources=resources)
    page = copy.with_suffix(".html")
    page.write_text(body, encoding="utf-8")
    feedback.finish_html(page)
    return page.read_text(encoding="utf-8")


def page_text(page: str) -> str:
    """A page's text outside its maths, code, scripts and styles."""
    page = re.sub(r"<(math|pre|code|script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.slow  # renders every notebook's page: 5-10 s
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_feedback_page_shows_no_tex(path, tmp_path):
    page = _feedback_page(path, tmp_path)
    assert "mathjax" not in page.lower()
    maths = math_elements(page)
    assert len(maths) > 20 and not [t for m in maths for t in tex_left_in_math(m)]
    left = tex_left_in_text(page_text(page))
    assert not left, left


@pytest.mark.parametrize("tex, gone", [
    (r"$\href{javascript:alert(1)}{x}$", "javascript"),
    (r"$\style{position:fixed;inset:0}{x}$", "position"),
    (r"$\class{regloss-result}{x}$", "regloss-result"),
    (r"$\colorbox{red}{x}$", "mathbackground"),
])
def test_a_students_tex_makes_no_link_style_or_class(tex, gone):
    from regloss.grading.worker.feedback import render_math

    got = render_math(tex)
    assert "<math" in got and gone not in got
