"""ARCHITECTURE.md stays true: every path it names exists, every `file::name` is defined."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
PATHS = sorted(
    set(re.findall(r"`((?:src|examples|tests|benchmarks|docs)/[\w./]+?)(?:::\w+)?`", TEXT))
)
NAMES = sorted(set(re.findall(r"`((?:src|examples|tests)/[\w./]+\.py)::(\w+)`", TEXT)))


def test_the_page_names_paths_and_definitions():
    assert len(PATHS) > 40 and len(NAMES) > 40  # the regexes still read the page


@pytest.mark.parametrize("path", PATHS)
def test_every_named_path_exists(path):
    assert (ROOT / path).exists(), f"ARCHITECTURE.md names {path}, which does not exist"


@pytest.mark.parametrize(("path", "name"), NAMES)
def test_every_named_definition_is_in_its_file(path, name):
    source = (ROOT / path).read_text(encoding="utf-8")
    defined = rf"^\s*(?:def|class) {name}\b|^{name}\s*[:=]"
    assert re.search(defined, source, re.M), f"ARCHITECTURE.md: {name} is not defined in {path}"


def test_every_module_of_the_package_is_on_the_page():
    package = ROOT / "src" / "mlpnet"
    named = {p for p in PATHS if p.startswith("src/mlpnet/")}
    for module in sorted(package.glob("*.py")) + sorted(p for p in package.iterdir() if p.is_dir()):
        if module.name in ("__main__.py", "__pycache__", "py.typed", "static"):
            continue
        rel = module.relative_to(ROOT).as_posix() + ("/" if module.is_dir() else "")
        assert rel in named or rel.rstrip("/") in named, f"ARCHITECTURE.md does not place {rel}"
