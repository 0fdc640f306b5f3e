"""Set-up is two commands, and the two descriptions of the environment agree."""

import re
import tomllib

from tests.harness import ROOT


def _name(req):
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    listed = {_name(ln.strip()[2:]) for ln in lines[start + 1:]
              if ln.strip().startswith("- ") and not ln.strip().startswith("- -e")}
    assert listed == wanted


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
