"""The README and the docs site (docs/, mkdocs.yml) keep their promises: the site builds with
`mkdocs build --strict` (a broken link, a missing page or anchor fails it), every config a page
names exists and parses, every package of lit_gan has an API page, the README stays short and
its links and pictures exist, and .ci/run runs the README's test command exactly."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lit_gan.cli import main as fit_main
from lit_gan.commands import train_classifier

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = sorted((REPO / "docs").rglob("*.md"))
README_LIMIT = 12_000  # the "at most ~12,000 characters": a two-minute read
NEEDS_MKDOCS = "the docs tests need mkdocs: pip install -e \".[docs]\" (the dev extra includes it)"


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    assert importlib.util.find_spec("mkdocs") and importlib.util.find_spec("mkdocstrings"), NEEDS_MKDOCS
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          cwd=config.parent, capture_output=True, text=True,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})  # no theme banner in the output


def test_the_site_builds_strictly(tmp_path):
    done = mkdocs_build(REPO / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "models.html").read_text()
    assert "lit_gan.models.adversarial" in api, "the API page lost the package's modules (show_submodules)"
    assert (tmp_path / "site" / "results" / "index.html").is_file(), "the results index is not part of the site"


def planted_site(tmp_path: Path, page: str) -> Path:
    """A one-page site with our mkdocs.yml's strictness and link checks, and ``page`` as its index."""
    ours = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    config = {"site_name": "planted", "docs_dir": "docs", "strict": ours["strict"], "validation": ours["validation"]}
    (tmp_path / "docs").mkdir(parents=True)
    (tmp_path / "docs" / "index.md").write_text(page)
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## A heading\n")
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    return tmp_path / "mkdocs.yml"


@pytest.mark.parametrize("link", ["missing.md", "other.md#no-such-heading"])
def test_our_strict_settings_fail_on_a_broken_link(tmp_path, link):
    good = mkdocs_build(planted_site(tmp_path / "good", "[fine](other.md#a-heading)\n"), tmp_path / "site-good")
    assert good.returncode == 0, good.stderr[-2000:]
    bad = mkdocs_build(planted_site(tmp_path / "bad", f"[broken]({link})\n"), tmp_path / "site-bad")
    assert bad.returncode != 0 and link.split("#")[-1] in bad.stderr


# ----- configs named by the pages -------------------------------------------------------------

def expand(pattern: str) -> list[str]:
    """``a_{x,y}.yaml`` -> both; ``<loss>`` and ``*`` are globs that must match something."""
    braces = re.search(r"\{([^{}]*)\}", pattern)
    if braces:
        return [p for option in braces.group(1).split(",")
                for p in expand(pattern[:braces.start()] + option + pattern[braces.end():])]
    return [pattern]


def is_placeholder(path: str) -> bool:
    return "/" not in path  # FILE.yaml, CONFIG.yaml: stand for the reader's own file


CONFIG = r"--config\s+[`'\"]?([\w./<>{},*~-]+\.yaml)"
CONFIG_RUN = re.compile(rf"{CONFIG}(?:[`'\"]?\s+(?:\\\s+)?{CONFIG})*")
CLONE = "~/lit_gan/"  # where the pages put the reader's clone


def config_groups(text: str) -> list[tuple[str, ...]]:
    """Every run of ``--config A [--config B ...]`` in ``text``, as the tuple of its paths."""
    return [tuple(p.removeprefix(CLONE) for p in re.findall(CONFIG, m.group(0))) for m in CONFIG_RUN.finditer(text)]


def named_configs() -> dict[tuple[str, ...], list[str]]:
    found: dict[tuple[str, ...], list[str]] = {}
    for page in [README, *PAGES]:
        for group in config_groups(page.read_text()):
            if not any(is_placeholder(p) for p in group):
                found.setdefault(group, []).append(str(page.relative_to(REPO)))
    return found


def test_the_scanner_sees_configs_and_their_combinations():
    text = ("`python -m lit_gan fit --config experiments/a.yaml \\\n    --config experiments/_base/b.yaml` and\n"
            "--config `experiments/c_{x,y}.yaml`, --config ~/lit_gan/experiments/d.yaml`) but not --config FILE.yaml")
    assert config_groups(text) == [("experiments/a.yaml", "experiments/_base/b.yaml"), ("experiments/c_{x,y}.yaml",),
                                   ("experiments/d.yaml",), ("FILE.yaml",)]
    assert expand("e/d_{m,f}_{1,2}.yaml") == ["e/d_m_1.yaml", "e/d_m_2.yaml", "e/d_f_1.yaml", "e/d_f_2.yaml"]
    assert named_configs(), "no --config found in README.md and docs/"


def test_every_named_config_exists():
    missing = []
    for group, where in named_configs().items():
        for pattern in group:
            for path in expand(pattern):
                if not glob.glob(str(REPO / re.sub(r"<[^>]+>", "*", path))):
                    missing.append(f"{path} (in {', '.join(sorted(set(where)))})")
    assert not missing, missing


def test_every_experiments_path_named_exists():
    """Beyond --config: the tables and configs a page names in prose and tables."""
    missing = []
    for page in [README, *PAGES]:
        for pattern in re.findall(r"experiments/[\w/<>{},.*-]+?\.yaml", page.read_text()):
            for path in expand(pattern):
                if not glob.glob(str(REPO / re.sub(r"<[^>]+>", "*", path))):
                    missing.append(f"{path} ({page.relative_to(REPO)})")
    assert not missing, missing


SNIPPETS = "experiments/_base/"  # appended to an experiment: parsed on top of one
SNIPPET_BASE = {"class_pictures.yaml": "experiments/radford2015/cdcgan_fashion_mnist.yaml"}  # needs labels
DEFAULT_BASE = "experiments/radford2015/dcgan_fashion_mnist.yaml"


def parse(group: tuple[str, ...], capsys, monkeypatch) -> None:
    """``--print_config`` of the command that reads these configs: it parses them and stops."""
    if all(p.startswith(SNIPPETS) for p in group):
        group = (SNIPPET_BASE.get(Path(group[0]).name, DEFAULT_BASE), *group)
    monkeypatch.setattr(sys, "argv", ["lit_gan"])
    args = [a for path in group for a in ("--config", path)] + ["--print_config"]
    classifier = all(p.startswith("experiments/classifiers/") for p in group)
    with pytest.raises(SystemExit) as exc:
        train_classifier.main(args) if classifier else fit_main(["fit", *args])
    _, err = capsys.readouterr()
    assert exc.value.code in (0, None), f"{' + '.join(group)} does not parse:\n{err[-2000:]}"


def test_every_named_config_parses(capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the pages name configs relative to the repository root
    concrete = [g for g in named_configs() if not any(re.search(r"[<*{]", p) for p in g)]
    assert len(concrete) >= 5
    for group in concrete:
        for path in group:
            assert "rows" not in (yaml.safe_load(Path(path).read_text()) or {}), (
                f"{path} is a reproduce table: it is run as `reproduce {path}`, never as --config")
        parse(group, capsys, monkeypatch)


# ----- API reference ----------------------------------------------------------------------------

def documented_modules() -> set[str]:
    return {m for page in (REPO / "docs" / "api").glob("*.md") for m in re.findall(r"^::: lit_gan\.(\w+)", page.read_text(), re.M)}


def test_every_package_and_top_level_module_has_an_api_entry():
    package = REPO / "lit_gan"
    names = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    names |= {p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    missing = sorted(names - documented_modules())
    assert not missing, f"add `::: lit_gan.<name>` to a page of docs/api/ (and mkdocs.yml's nav) for {missing}"


def test_every_api_page_is_in_the_nav():
    nav = (REPO / "mkdocs.yml").read_text()
    pages = [f"api/{p.name}" for p in sorted((REPO / "docs" / "api").glob("*.md"))]
    assert [p for p in pages if p not in nav] == []


# ----- the README -----------------------------------------------------------------------------

def test_the_readme_is_a_two_minute_read():
    size = len(README.read_text())
    assert size <= README_LIMIT, f"README.md has {size} characters (at most {README_LIMIT}): move detail to docs/"


def test_the_readmes_links_and_pictures_exist():
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)", text) + re.findall(r'src="([^"]+)"', text)
    local = [t for t in targets if "://" not in t]
    assert any(t.startswith("results/") and t.endswith(".png") for t in local)
    assert [t for t in local if not (REPO / t).exists()] == []


def test_ci_runs_the_readmes_test_command_exactly():
    readme = README.read_text()
    block = readme.split("**Install and run the tests**", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert block.strip() in [line.strip() for line in ci_lines], f"`.ci/run` must run `{block.strip()}` as the README says"
