"""Sphinx's configuration for the course site (tools/build_site.py stages the pages beside it)."""

project = "Kinesis → Lambda, batch by batch"
author = "The course kit's authors"
copyright = "the course kit's authors (see LICENSE)"

extensions = ["myst_nb"]
# The stored outputs are the site's whole point: the notebooks are shown as committed, never run here.
nb_execution_mode = "off"
# The notebooks link to glossary entries by their heading (../docs/glossary.md#shard).
myst_heading_anchors = 4
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "furo"
html_title = project
html_copy_source = False  # the sources are staged copies; the repository is where they live
html_show_sourcelink = False
html_theme_options = {
    "announcement": (
        "Outputs recorded on LocalStack 4.14 with the course's extension, not on AWS. Answers are folded: try first."
    ),
}
