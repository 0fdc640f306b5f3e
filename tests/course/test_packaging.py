"""Set-up is two commands, and the two descriptions of the environment agree."""

import re
import tomllib

from tests.harness import ROOT


def _name(req):
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _environment_packages():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    return {_name(ln.strip()[2:]) for ln in lines[start + 1:]
            if ln.strip().startswith("- ") and not ln.strip().startswith("- -")}


def test_environment_yml_is_the_students_environment():
    """environment.yml names the base dependencies (what the release notebooks need), not the
    developers' tools."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _environment_packages() == {_name(r) for r in project["dependencies"]}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert not dev & _environment_packages()


def test_base_dependencies_cover_every_release_notebook_import():
    """Every module a release notebook (or a file it ships) imports is the standard library's,
    regloss's, the assignment's own, or a base dependency's: a student's `pip install regloss` runs
    every notebook."""
    import ast
    import importlib.metadata as md
    import sys

    import nbformat

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_name(r) for r in project["dependencies"]}
    providers = md.packages_distributions()
    missing = set()
    for folder in sorted((ROOT / "notebooks").iterdir()):
        own = {p.stem for p in folder.glob("*.py")}
        sources = [p.read_text() for p in folder.glob("*.py")]
        for nbpath in folder.glob("*.ipynb"):
            nb = nbformat.read(str(nbpath), as_version=4)
            sources += ["\n".join(ln for ln in c.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
                        for c in nb.cells if c.cell_type == "code"]
        for text in sources:
            for node in ast.walk(ast.parse(text)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [])
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in own or top == "regloss":
                        continue
                    dists = {_name(d) for d in providers.get(top, [top])}
                    if not dists & base:
                        missing.add(f"{folder.name}: {top} ({', '.join(sorted(dists))})")
    assert not missing, sorted(missing)


def test_torch_is_pinned_to_the_cpu_build_everywhere():
    assert '"torch==2.13.0"' in (ROOT / "pyproject.toml").read_text()
    assert "torch==2.13.0" in (ROOT / "environment.yml").read_text()


CHROMIUM_INSTALL = ('if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then apt-get update -qq && '
                    'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi')
PROXY_INSTALL = ('if ! command -v configurable-http-proxy >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then '
                 'npm install -g configurable-http-proxy@5; fi')


def test_ci_runs_exactly_the_readme_commands():
    """`.ci/run` runs the README's set-up and test commands and nothing else, except, before
    them, installing Debian's Chromium for the browser test and npm's configurable-http-proxy
    for the JupyterHub test when they are missing."""
    readme = (ROOT / "README.md").read_text()
    commands = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines()
                if ln and not ln.startswith(("#", "set ", "cd "))]
    for install in (CHROMIUM_INSTALL, PROXY_INSTALL):
        if commands and commands[0] == install:
            commands = commands[1:]
        assert install not in commands, f"{install!r} must come before the README's commands"
    assert len(commands) == 2, commands
    for cmd in commands:
        assert cmd in readme, f"{cmd!r} is not the README's command"
