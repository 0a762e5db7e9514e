"""Sphinx configuration: `make docs` (html, warnings are errors) and the doctest builder (the docstring
examples). Pages that repeat the README (conventions, design notes, migration, CUDA testing) and the
benchmark tables are generated at build time into _generated/ from README.md and benchmarks/results/,
so they are written once."""

import pathlib
import re
import shutil

import torchauc

ROOT = pathlib.Path(__file__).resolve().parents[1]
GEN = pathlib.Path(__file__).resolve().parent / "_generated"

project = "torchauc"
author = "the torchauc developers"
release = torchauc.__version__
version = torchauc._version.BASE
extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest", "sphinx.ext.mathjax", "sphinx.ext.napoleon", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"description": "Exact, fast C++/CUDA AUC-family losses and metrics for PyTorch"}
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
doctest_global_setup = "import torch\nimport torchauc"
suppress_warnings = ["myst.header", "myst.xref_missing"]  # README headings and repo-relative links


def readme_sections(title, text=None):
    """Every README section ``## title`` (up to the next ``## ``): a title may appear more than once
    (the migration tables were appended per anchor by different families)."""
    text = text or (ROOT / "README.md").read_text()
    pattern = rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)"
    return [m.group(1).strip() for m in re.finditer(pattern, text, re.S | re.M)]


def readme_section(title, text=None):
    """The README sections ``## title`` joined, or None."""
    return "\n\n".join(readme_sections(title, text)) or None


def _page(name, title, body):
    (GEN / f"{name}.md").write_text(f"# {title}\n\n{body}\n")


def generate():
    if GEN.exists():
        shutil.rmtree(GEN)
    GEN.mkdir()
    pages = {
        "conventions": ("Conventions", ["Conventions (every loss and metric)"]),
        "design": (
            "Design notes",
            [
                "Layout: one family, one name, one place",
                "How the CUDA code is tested",
                "Design notes (choices made, and why)",
            ],
        ),
    }
    for name, (title, sections) in pages.items():
        parts = [(s, readme_section(s)) for s in sections]
        _page(name, title, "\n\n".join(f"## {s}\n\n{body}" for s, body in parts if body))
    # the section with the introduction first, then the per-anchor tables
    migration = readme_sections("Migrating from XCurve and LibAUC")
    migration = "\n\n".join(sorted(migration, key=lambda s: s.startswith("###"))) or None
    _page(
        "migration",
        "Migrating from XCurve and LibAUC",
        migration or "The migration table is written in the README section *Migrating from XCurve and LibAUC*.",
    )
    # the distributed page: the README section, then the API of the distributed metrics
    _page(
        "distributed",
        "Distributed training and evaluation",
        (readme_section("Distributed training and evaluation") or "")
        + "\n\n## API\n\n```{eval-rst}\n.. automodule:: torchauc.auroc.distributed\n   :members:\n```",
    )
    # benchmark tables and their plots, newest first
    res = ROOT / "benchmarks" / "results"
    body = [readme_section("Benchmarks") or ""]
    for md in sorted(res.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True):
        table = md.read_text().replace("\n# ", "\n### ", 1)
        table = re.sub(r"^# ", "### ", table, count=1)
        body.append(f"## {md.stem}\n\n{table}")
        for png in sorted(res.glob(md.stem + "*.png")):
            shutil.copy(png, GEN / png.name)
            body.append(f"![{png.stem}]({png.name})")
    _page("benchmarks", "Benchmarks", "\n\n".join(body))


generate()
