"""The documentation stands on its own: every relative link of README.md, docs/ and the dbt
project's Markdown reaches a file of the repository (and the heading it names), every repository
path written in backticks there — and in the comments and docstrings of src/, plugins/ and
deploy/ — exists, and no doc, YAML or test names a file outside the repository."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_FOLDERS = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
# written by make, a run or a test, so absent from a fresh checkout
GENERATED = ("dbt_project/target", "web_assets/node_modules", ".local/", ".venv/")
# folders of the landing location, the Data Docs site and a workbook's zip, not of the repository
ELSEWHERE = {"communes", "agencies", "_feedback", "_reports", "_templates", "landing", "gx_store",
             "static", "xl"}
# where a path in backticks may be relative to, besides the repository and the file's folder
BASES = (ROOT, ROOT / "src" / "poverty_pipeline", ROOT / "dbt_project")
# names of files outside the repository (split so this file does not name them itself)
# the Python whose comments and docstrings are checked like the docs
CODE = ("src", "plugins", "deploy")
OUTSIDE = re.compile("(?<![\\w-])" + "shared" + "/|" + "DESIGN" + r"\.md")


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    files += [p for p in sorted((ROOT / "dbt_project").rglob("*.md"))
              if not str(p.relative_to(ROOT)).startswith(GENERATED)]
    return files


def without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in without_code_blocks(path.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(path: Path) -> list[str]:
    problems = []
    text = without_code_blocks(path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # a link written as code is not a link
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, mailto: …
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{target}: no such heading")
    return problems


def looks_like_repo_path(span: str) -> bool:
    if not span or re.search(r"[\s<>*{}$…?=:|\\'\"()\[\],;@]", span) or span.startswith(("/", "~", "-")):
        return False
    if span.startswith(GENERATED) or span.split("/")[0] in ELSEWHERE:
        return False
    if "/" not in span.rstrip("/"):
        return span.rstrip("/") in TOP_FOLDERS and span.endswith("/")
    return span.split("/")[0] in TOP_FOLDERS or bool(re.search(r"\.[A-Za-z][A-Za-z0-9]{0,4}$", span))


def missing_paths(spans: list[str], here: Path) -> list[str]:
    missing = []
    for span in spans:
        span = span.strip()
        if looks_like_repo_path(span):
            rel = span.rstrip("/")
            if not any((base / rel).exists() for base in (*BASES, here)):
                missing.append(span)
    return missing


def code_spans(text: str) -> list[str]:
    return re.findall(r"``?([^`\n]+?)``?", text)


def python_comments_and_docstrings(path: Path) -> str:
    source = path.read_text(encoding="utf-8")
    parts = [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.append(ast.get_docstring(node) or "")
    return "\n".join(parts)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_reach_a_file_and_its_heading(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_in_the_docs_exist(path):
    text = without_code_blocks(path.read_text(encoding="utf-8"))
    assert missing_paths(code_spans(text), path.parent) == []


def test_paths_in_the_comments_and_docstrings_of_the_code_exist():
    missing = {}
    for path in sorted(p for folder in CODE for p in (ROOT / folder).rglob("*.py")):
        if found := missing_paths(code_spans(python_comments_and_docstrings(path)), path.parent):
            missing[str(path.relative_to(ROOT))] = found
    assert missing == {}


def test_nothing_names_a_file_outside_the_repository():
    kinds = ("*.md", "*.yml", "*.yaml", "*.sql", "*.csv", "*.py", "*.json")
    folders = ("docs", "dbt_project", "src", "plugins", "deploy", "dags", "tests", "expectations")
    files = [ROOT / "README.md"] + [p for folder in folders for kind in kinds
                                    for p in (ROOT / folder).rglob(kind)]
    named = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files
             if not str(p.relative_to(ROOT)).startswith(GENERATED)
             for m in OUTSIDE.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert named == []


def test_the_checks_see_a_broken_link_and_a_missing_path(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [bad anchor](#nowhere)\n"
                    "`src/poverty_pipeline/no_such_module.py` `docs/submitting.md`\n")
    assert broken_links(page) == ["missing.md: no such file", "#nowhere: no such heading"]
    assert missing_paths(code_spans(page.read_text()), tmp_path) == [
        "src/poverty_pipeline/no_such_module.py"]
    assert OUTSIDE.search("see ../" + "shared" + "/contracts/x.md")
