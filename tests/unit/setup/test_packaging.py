"""`pip install .` (not editable) gives a kinesis_course that works: every subpackage and the data files it reads.

An editable install serves files from the checkout, so a subpackage left out of pyproject.toml's packages goes
unseen until someone installs the kit for real (a dev container, a course site build).
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
UV = ROOT / ".venv" / "uv" / "bin" / "uv"


def _subpackages() -> list[str]:
    """Every package of the source tree, by its __init__.py: a new one is checked without editing this test."""
    return sorted(".".join(init.parent.relative_to(ROOT).parts)
                  for init in (ROOT / "kinesis_course").rglob("__init__.py") if "__pycache__" not in init.parts)


def test_a_non_editable_install_holds_every_subpackage_and_the_handler_steps(tmp_path):
    # Built from a copy of what the package is made of: setuptools would otherwise reuse the checkout's build/lib
    # (stale files from an earlier build) and write its build/ and egg-info into the checkout.
    source, target = tmp_path / "source", tmp_path / "site"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copytree(ROOT / "kinesis_course", source / "kinesis_course", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(UV), "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True)
    packages = _subpackages()
    assert "kinesis_course.capstone" in packages  # the one pyproject.toml once left out
    probe = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(target)!r})\n"
        f"for name in {packages!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(target)!r}), (\n"
        "        f'{name} is not in the installed package (is it in pyproject.toml [tool.setuptools] packages?); '\n"
        "        f'the import found {module.__file__}')\n"
        "from kinesis_course.capstone import run, replay\n"
        "from kinesis_course import handler_steps\n"
        "from pathlib import Path\n"
        "steps = Path(handler_steps.__file__).parent\n"
        "print(json.dumps({'exercises': json.loads((steps / 'exercises.json').read_text()) != {},\n"
        "                  'steps': sorted(p.name for p in steps.glob('lesson*/*.py')),\n"
        "                  'wrapper': run.FAULTS_MODULE.exists() and run.POWERTOOLS_HANDLER.exists()}))\n"
    )
    # Run from the temporary folder, so the checkout is not on sys.path and cannot answer for the install.
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found = __import__("json").loads(done.stdout)
    expected_steps = sorted(p.name for p in (ROOT / "kinesis_course" / "handler_steps").glob("lesson*/*.py"))
    assert found == {"exercises": True, "steps": expected_steps, "wrapper": True}, found
