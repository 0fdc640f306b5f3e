"""The feedback page's exporter keeps compiled templates for the process, and renders
the same page as nbconvert's HTMLExporter (regloss.grading.worker.feedback_exporter)."""

import nbformat
import pytest
from jinja2 import DictLoader, Environment
from nbconvert.exporters import HTMLExporter

from regloss.grading.worker import feedback_exporter as fe


@pytest.fixture
def nb():
    v4 = nbformat.v4
    return v4.new_notebook(cells=[
        v4.new_markdown_cell("# Loss\nThe **L1** loss."),
        v4.new_code_cell("x = 1\nprint(x)", execution_count=1,
                         outputs=[v4.new_output("stream", name="stdout", text="1\n")]),
    ], metadata={"language_info": {"name": "python"}})


@pytest.fixture
def compiles(monkeypatch):
    """How many templates Jinja compiled."""
    count = {"n": 0}
    original = Environment.compile

    def counting(self, *a, **k):
        count["n"] += 1
        return original(self, *a, **k)

    monkeypatch.setattr(Environment, "compile", counting)
    return count


@pytest.mark.parametrize("template", ["classic", "lab"])
def test_same_page_as_html_exporter(nb, template):
    fe.code_cache(HTMLExporter(template_name=template).environment).clear()
    ours = [fe.FeedbackExporter(template_name=template).from_notebook_node(nb)[0] for _ in range(2)]
    theirs = HTMLExporter(template_name=template).from_notebook_node(nb)[0]
    assert ours[0] == theirs and ours[1] == theirs  # compiled, then from the cache


def test_the_second_student_compiles_nothing(nb, compiles):
    fe.code_cache(fe.FeedbackExporter(template_name="classic").environment).clear()
    fe.FeedbackExporter(template_name="classic").from_notebook_node(nb)
    first = compiles["n"]
    fe.FeedbackExporter(template_name="classic").from_notebook_node(nb)
    assert first > 0 and compiles["n"] == first
    compiles["n"] = 0
    HTMLExporter(template_name="classic").from_notebook_node(nb)  # nbconvert's own compiles every time
    assert compiles["n"] == first


def test_a_changed_template_is_compiled_again():
    cache = fe.TemplateCodeCache()
    templates = {"page": "Hello {{ name }}!"}
    env = Environment(loader=DictLoader(templates), bytecode_cache=cache)
    assert env.get_template("page").render(name="Ada") == "Hello Ada!"
    assert len(cache) == 1
    templates["page"] = "Bye {{ name }}."
    env2 = Environment(loader=DictLoader(templates), bytecode_cache=cache)
    assert env2.get_template("page").render(name="Ada") == "Bye Ada."
    env3 = Environment(loader=DictLoader({"page": "Hello {{ name }}!"}), bytecode_cache=cache)
    assert env3.get_template("page").render(name="Bo") == "Hello Bo!"


def test_other_compile_options_get_another_cache():
    plain = Environment()
    assert fe.code_cache(plain) is fe.code_cache(Environment())
    assert fe.code_cache(plain) is not fe.code_cache(Environment(enable_async=True))
    assert fe.code_cache(plain) is not fe.code_cache(Environment(trim_blocks=True))


def test_nbgrader_renders_feedback_with_it():
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from regloss.grading.worker import feedback

    cfg = feedback.configure(Config())
    app = GenerateFeedback(coursedir=CourseDirectory(config=cfg), config=cfg)
    assert app.exporter_class is fe.FeedbackExporter
