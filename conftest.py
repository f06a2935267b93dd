"""Repository-wide pytest hooks. Keep this file to what must apply to every collected notebook."""


def pytest_collectstart(collector):
    # nbval compares each cell's fresh outputs with the ones stored in solutions/. stderr is not worth
    # comparing: it carries progress bars, boto3/botocore deprecation and library warnings, and log
    # lines whose wording changes with library versions, none of which the course teaches. nbval's
    # documented way to ignore an output key is to extend the notebook collector's skip_compare.
    # Errors still fail the test: an exception is an `error` output, not stderr, and nbval fails any
    # cell that raises (unless tagged raises-exception).
    if collector.path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare += ("stderr",)

