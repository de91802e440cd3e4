"""Linters over the deployment files: hadolint on the Dockerfile, cfn-lint on
every CloudFormation template, shellcheck on the scripts in ``infra/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from tests.deploy_files import INFRA, ROOT, TEMPLATES

#: The linters' executables, installed into the venv by requirements-dev.txt.
BIN = Path(sys.executable).parent
#: Regions the templates are linted for (resource availability differs).
REGIONS = ["us-east-1", "eu-west-1"]


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a linter from the repository root; its output is the failure message."""
    return subprocess.run(
        [str(part) for part in command], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_hadolint_passes_the_dockerfile() -> None:
    result = run(BIN / "hadolint", "--no-color", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_is_linted() -> None:
    assert [path.name for path in TEMPLATES] == [
        "api-service.yaml",
        "cluster.yaml",
        "ecr.yaml",
        "jobs.yaml",
        "load-balancer.yaml",
        "worker-service.yaml",
    ]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_cfn_lint_passes(path: Path) -> None:
    matches = lint(path.read_text(), config=ManualArgs(include_checks=["I"], regions=REGIONS))
    assert not matches, "\n".join(str(match) for match in matches)


def test_shellcheck_passes_the_scripts() -> None:
    scripts = sorted(INFRA.glob("*.sh"))
    assert scripts
    result = run(BIN / "shellcheck", *scripts)
    assert result.returncode == 0, result.stdout + result.stderr
