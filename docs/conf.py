"""Sphinx configuration of the rectflow documentation (MyST Markdown, furo)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import rectflow  # noqa: E402

project = "rectflow"
author = "rectflow developers"
copyright = "rectflow developers"
release = rectflow.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinxcontrib.mermaid",
    "rectflow_docs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]
language = "en"

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

# Google-style docstrings; ``Attributes:`` as an instance-variable field list, so
# that an attribute documented there is never a second object description.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_default_options = {"members": True}
autoclass_content = "class"

html_theme = "furo"
html_title = f"rectflow {release}"
html_static_path: list[str] = []
html_theme_options = {"navigation_with_keys": True}

mermaid_output_format = "raw"
