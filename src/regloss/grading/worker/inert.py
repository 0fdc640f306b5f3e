"""A student's notebook made inert before anything renders it: no script, no style, no live link.

The autograded notebook is rendered twice: as the student's feedback page, and in
formgrader, inside the instructor's logged-in Jupyter session, where a script would
act with the instructor's rights. Everything in it that a student wrote or printed is
untrusted: the outputs of their cells and the markdown cells they could edit.
:func:`make_inert` rewrites the notebook in place, after nbgrader has autograded it
and before the feedback is made from it or it is kept:

* an HTML output is passed through `nh3 <https://github.com/messense/nh3>`_ (the
  binding of the Rust sanitiser ammonia): no ``<script>``, ``<style>``, ``<iframe>``,
  ``<object>``, ``<form>``, no ``on*`` handler or ``style`` attribute, no
  ``javascript:`` URL; an image only from the notebook itself (a ``data:`` URL), so
  opening a page contacts no server;
* outputs a page would run or style (JavaScript, widgets, SVG, which may hold scripts)
  are replaced by their plain-text form, or by a line saying what was removed;
* a markdown output becomes plain text;
* in markdown cells (outside code and maths) each HTML tag nh3 allows is kept as nh3
  cleans it (``<b>``, ``<sub>``, ``<br>``, a link, an image the notebook holds), and every
  other tag is shown as text (``<script>``, ``<style>``, a comment); a closing tag is kept
  only where it closes a tag the cell opened, and what the cell left open is closed at its
  end, so a cell cannot close the page's own containers.

The result boxes the feedback puts above each test cell are added afterwards by the
grader (:func:`regloss.grading.worker.feedback.result_box`), so no student style can
hide or fake them.
"""

from __future__ import annotations

import re
from typing import Any

import nh3

#: Output types a page renders as HTML after this module: what nh3 leaves of them.
HTML_MIMES = ("text/html",)
#: Output types kept as they are: rendered as text or as an image by nbconvert and formgrader.
KEPT_MIMES = ("text/plain", "image/png", "image/jpeg", "image/gif", "text/latex", "application/pdf")
#: An image a page may show: only one the notebook holds.
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
#: Where a page's code and maths are in markdown: left as they are.
_PROTECTED = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`|\$\$.+?\$\$|\$[^$\n]+\$)", re.S)


def _attribute(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":  # an image the notebook holds; none from a server
        return value if _DATA_IMAGE.match(value) else None
    if value.strip().lower().startswith("data:"):  # a link to a data: page could hold a script
        return None
    return value


def clean_html(text: str) -> str:
    """HTML with nothing that runs, styles or loads (see the module docstring)."""
    return nh3.clean(text, attribute_filter=_attribute, link_rel="noopener noreferrer nofollow",
                     url_schemes={"http", "https", "mailto", "data"})


#: A whole tag of markdown's raw HTML, or the start of anything else a browser would read as markup.
_MARKUP = re.compile(r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<rest>(?:\s[^<>]*)?/?)>|<(?=[A-Za-z/!?])")
#: Tags that have no closing tag.
_VOID = {"br", "hr", "img", "wbr", "area", "col"}


def clean_markdown(markdown: str) -> str:
    """Markdown whose raw HTML is what nh3 allows, balanced (see the module docstring). Code and
    maths are left as they are where that is safe: the result is rendered as the feedback page
    renders it (nbconvert's ``markdown2html``) and, should the page then hold markup nh3 would
    remove (a code span or a formula the renderer does not read as the patterns here do, inside
    an HTML block, across lines), the cell is cleaned again with nothing left as it is."""
    kept = _clean_markdown(markdown, protect=True)
    if _renders_clean(kept):
        return kept
    return _clean_markdown(markdown, protect=False)


def _start_tags(html: str) -> list[tuple[str, tuple[str, ...]]]:
    """The start tags of ``html`` with their attribute names (``rel``, which nh3 adds, left out)."""
    from html.parser import HTMLParser

    found: list[tuple[str, tuple[str, ...]]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, tuple(sorted(a for a, _ in attrs if a != "rel"))))

        def handle_startendtag(self, tag, attrs):
            self.handle_starttag(tag, attrs)

        def handle_comment(self, data):
            found.append(("!--", ()))

        def handle_decl(self, decl):
            found.append(("!", ()))

        def handle_pi(self, data):
            found.append(("?", ()))

    parser = Tags(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return found


def _renders_clean(markdown: str) -> bool:
    """Whether the page nbconvert renders from ``markdown`` holds only markup nh3 keeps."""
    from nbconvert.filters.markdown import markdown2html

    html = markdown2html(markdown)
    return _start_tags(html) == _start_tags(clean_html(html))


def _clean_markdown(markdown: str, protect: bool) -> str:
    open_tags: list[str] = []

    def tag(m: re.Match[str]) -> str:
        name = (m["name"] or "").lower()
        if not name or name not in nh3.ALLOWED_TAGS:
            return "&lt;" + m[0][1:]
        if m["close"]:
            if name in open_tags:
                closed = ""
                while open_tags:  # closing an outer tag closes those inside it first
                    inner = open_tags.pop()
                    closed += f"</{inner}>"
                    if inner == name:
                        return closed
            return "&lt;" + m[0][1:]
        got = clean_html(m[0])
        if got.endswith(f"</{name}>"):
            got = got[: -len(f"</{name}>")]
        if not got.startswith(f"<{name}"):
            return "&lt;" + m[0][1:]
        if name not in _VOID:
            open_tags.append(name)
        return got

    parts = _PROTECTED.split(markdown) if protect else [markdown]
    out = "".join(p if i % 2 else _MARKUP.sub(tag, p) for i, p in enumerate(parts))
    return out + "".join(f"</{name}>" for name in reversed(open_tags))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "".join(str(x) for x in value or [])


def inert_output(output: dict) -> dict:
    """One output of a code cell, made inert (a new dict; streams and errors are rendered as text)."""
    if output.get("output_type") not in ("display_data", "execute_result") or not isinstance(output.get("data"), dict):
        return output
    data: dict[str, Any] = {}
    removed = []
    for mime, value in output["data"].items():
        if mime in HTML_MIMES:
            data[mime] = clean_html(_text(value))
        elif mime in KEPT_MIMES:
            data[mime] = value
        elif mime == "text/markdown":
            data.setdefault("text/plain", _text(value))
        else:
            removed.append(mime)
    if not data:
        data["text/plain"] = f"[{', '.join(removed)} output removed: a page would run it]"
    out = type(output)(output)  # a NotebookNode stays one
    out["data"] = data
    out["metadata"] = {k: v for k, v in (output.get("metadata") or {}).items() if k in KEPT_MIMES}
    return out


def make_inert(nb: Any) -> None:
    """Make every output and markdown cell of ``nb`` (an nbformat notebook) inert, in place."""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            cell["source"] = clean_markdown(_text(cell.get("source", "")))
        elif cell.get("cell_type") == "code":
            cell["outputs"] = [inert_output(o) for o in cell.get("outputs", [])]
