"""A student's outputs and markdown made inert before a page renders them (:mod:`regloss.grading.worker.inert`)."""

from __future__ import annotations

import nbformat
import pytest

from regloss.grading.worker.inert import clean_html, clean_markdown, inert_output, make_inert

PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize("attack, gone", [
    ("<script>alert(1)</script>", "alert"),
    ("<style>.regloss-result{display:none}</style>", "display:none"),
    ("<img src=x onerror=alert(1)>", "onerror"),
    ("<a href='javascript:alert(1)'>x</a>", "javascript:"),
    ("<iframe src='http://evil'></iframe>", "iframe"),
    ("<div style='position:fixed;inset:0'>fake Passed</div>", "position:fixed"),
    ("<object data='x.swf'></object>", "object"),
    ("<form action='http://evil'><input></form>", "form"),
    ("<svg onload=alert(1)>", "onload"),
    ("<img src='https://tracker.example/p.gif'>", "tracker"),
    ("<base href='http://evil/'>", "base"),
    ("<a href='data:text/html,<script>alert(1)</script>'>x</a>", "data:"),
    ("<meta http-equiv=refresh content='0;url=http://evil'>", "refresh"),
])
def test_nothing_that_runs_styles_or_loads_is_left(attack, gone):
    assert gone not in clean_html(attack).lower()


def test_what_reads_stays():
    table = "<b>bold</b> <table><tbody><tr><td>1</td></tr></tbody></table>"  # a DataFrame's table reads the same
    assert clean_html(table) == table
    assert f'src="{PNG}"' in clean_html(f"<img src='{PNG}'>")


@pytest.mark.parametrize("markdown, shown", [
    ("Answer <script>x()</script> and `a<b` and $a<b$ and\n```\n<i>code</i>\n```\n<style>.x{}</style>",
     "Answer &lt;script>x()&lt;/script> and `a<b` and $a<b$ and\n```\n<i>code</i>\n```\n&lt;style>.x{}&lt;/style>"),
    ("<b>bold</b> H<sub>2</sub>O<br>", "<b>bold</b> H<sub>2</sub>O<br>"),  # what reads is kept
    ("a < b and 3<4", "a < b and 3<4"),  # not a tag: left alone
    ("</div></div><b>x", "&lt;/div>&lt;/div><b>x</b>"),  # the page's containers stay closed by the page
    ("<b><i>x</b> y", "<b><i>x</i></b> y"),
    ("<img src=x onerror=y>", "<img>"),
    ("<a href='javascript:x'>l</a>", '<a rel="noopener noreferrer nofollow">l</a>'),
    ("<div style='display:none'>hide</div>", "<div>hide</div>"),
    ("<!-- <b> -->", "&lt;!-- <b> --></b>"),
    ('<a title="a>b" onclick=x>', '&lt;a title="a>b" onclick=x>'),
])
def test_markdown_keeps_the_html_that_reads_and_shows_the_rest_as_text(markdown, shown):
    assert clean_markdown(markdown) == shown


@pytest.mark.parametrize("markdown", [
    "Let $x\n$ <script>alert(1)</script> $ end",  # a formula nbconvert pairs across a line break
    "<div>`<script>alert(1)</script>`</div>",  # no code span inside an HTML block
    "<div>\n```\n<script>alert(1)</script>\n```\n</div>",  # nor a fence
    '<a title="`">`<script>x()</script>`',  # a backtick inside a tag does not open a code span
    "`a\nb` <img src=x onerror=alert(1)> $y\n$",
])
def test_what_the_patterns_misread_as_code_or_maths_is_cleaned_all_the_same(markdown):
    from nbconvert.filters.markdown import markdown2html

    from regloss.grading.worker.inert import _start_tags

    page = markdown2html(clean_markdown(markdown))
    assert "<script" not in page.lower()
    assert all(not a.startswith("on") for _, attrs in _start_tags(page) for a in attrs), page
    assert _start_tags(page) == _start_tags(clean_html(page))  # nothing live that nh3 would remove


def test_code_and_maths_that_render_as_such_are_left_as_written():
    assert clean_markdown("Let $a<b$ and `x<y` and `<i>c</i>`") == "Let $a<b$ and `x<y` and `<i>c</i>`"


def test_outputs_a_page_would_run_are_replaced():
    js = nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"})
    assert inert_output(js)["data"] == {"text/plain": "[application/javascript output removed: a page would run it]"}
    svg = nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg onload=x()/>", "text/plain": "<Figure>"})
    assert inert_output(svg)["data"] == {"text/plain": "<Figure>"}
    md = nbformat.v4.new_output("execute_result", data={"text/markdown": "<script>x</script>"}, execution_count=1)
    assert inert_output(md)["data"] == {"text/plain": "<script>x</script>"}  # shown as text
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})
    assert inert_output(png)["data"] == png["data"]
    stream = nbformat.v4.new_output("stream", name="stdout", text="<script>x</script>")
    assert inert_output(stream) == stream  # nbconvert escapes a stream


def test_a_notebook_is_made_inert_in_place_and_stays_valid():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>x</script><b>ok</b>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("<img src=x onerror=y>"), code]
    make_inert(nb)
    nbformat.validate(nb)
    assert nb.cells[0].source == "<img>"
    assert nb.cells[1].outputs[0]["data"]["text/html"] == "<b>ok</b>"
