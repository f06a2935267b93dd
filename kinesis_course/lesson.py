"""One lesson's resources: names unique to the lesson (and to its copy), clean-up, a build folder.

Notebooks in solutions/ and lessons/ may run at the same time against one LocalStack (the test suite does
that), so each copy gets its own prefix: ``kc03-`` for lessons/03, ``kc03s-`` for solutions/03.
The build folder holds the learner's handler and is never deleted by the kit; which files a lesson starts from,
the learner's or the course's, is kinesis_course/own_handler.py's business.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import functions, handler_steps, logs, mappings, own_handler, streams, tables
from .endpoint import client, require_localstack
from .handler_import import import_fresh

PREFIX = "kc"


class Lesson:
    def __init__(self, number: str, folder: str | Path | None = None) -> None:
        self.number = number
        self.folder = Path(folder or Path.cwd())
        copy = "s" if self.folder.name == "solutions" else ""
        self.prefix = f"{PREFIX}{number}{copy}-"
        # Relative to the notebook, so outputs read the same on every machine.
        self.build_dir = Path("..") / "build" / (self.folder.name or "notebooks") / number

    def name(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def start(self) -> "Lesson":
        """Checks LocalStack, deletes the AWS resources an earlier run of this lesson left, and fills the build
        folder with the handler the lessons before this one built: your own files where every check of their
        exercises passed, the course's otherwise (one line per file says which, and why)."""
        require_localstack()
        own_handler.started(self)
        self.reset()
        lines = own_handler.carry(self)
        if lines:
            width = max(len(name) for name, _ in lines)
            print(f"Your handler so far, in {self.build_dir.as_posix()}/:")
            print("\n".join(f"  {name:<{width}}  {line}" for name, line in lines))
        return self

    def show_handler(self) -> None:
        """Prints the handler's files, functions and classes after this lesson, which lesson each comes from, and
        whether a carried one is yours or the course's."""
        whose = own_handler.whose_files(self)
        folder = self.folder / self.build_dir
        files = {name: folder / name for name, owner in whose.items() if owner == own_handler.YOURS}
        print(handler_steps.changes_table(self.number, whose=whose or None, carried=files))

    def use_course_handler(self, *names: str) -> None:
        """Puts the course's version of the carried handler files (all of them, or the ones named, e.g.
        "decoding.py") into this lesson's build folder, for when your own earlier code breaks a later check.
        Your copy is kept beside it, renamed NAME.yours-YYYYmmdd-HHMMSS.py; later lessons keep the course's
        version too, until you change that file again."""
        for name, line in own_handler.use_course_handler(self, names):
            print(f"{name}  {line}")
        print("Run the cells that load the handler (lesson.load_module) again.")

    def generated_dir(self, name: str) -> Path:
        """A folder for something the kit builds for this lesson (not your code), beside the build folder;
        reset() deletes it."""
        return self.build_dir.parent / f"{self.number}-{name}"

    def reset(self) -> None:
        """Deletes every mapping, function, log group, stream, queue and table whose name has this lesson's prefix,
        and the folders the kit built for it (generated_dir). Your code in the build folder stays."""
        lam = client("lambda")
        names = [
            function["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate()
            for function in page["Functions"]
            if function["FunctionName"].startswith(self.prefix)
        ]
        # Each resource is deleted on its own thread: most of the time goes in waiting for each to be gone.
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(_delete_function_and_mappings, names))
            groups = client("logs").describe_log_groups(logGroupNamePrefix=logs.log_group(self.prefix))["logGroups"]
            list(pool.map(lambda group: logs.delete_log_group(group["logGroupName"]), groups))
            deletions = [
                pool.submit(streams.delete_stream, name)
                for name in client("kinesis").list_streams().get("StreamNames", [])
                if name.startswith(self.prefix)
            ]
            deletions += [
                pool.submit(client("sqs").delete_queue, QueueUrl=url)
                for url in client("sqs").list_queues(QueueNamePrefix=self.prefix).get("QueueUrls", [])
            ]
            deletions += [
                pool.submit(tables.delete_table, name)
                for name in client("dynamodb").list_tables().get("TableNames", [])
                if name.startswith(self.prefix)
            ]
            for deletion in deletions:
                deletion.result()
        for generated in (self.folder / self.build_dir.parent).glob(f"{self.number}-*"):
            shutil.rmtree(generated, ignore_errors=True)

    def load_module(self, filename: str = "handler.py"):
        """Imports a file from the build folder afresh (never a cached copy), as Lambda would on a cold start."""
        return import_fresh(
            self.folder / self.build_dir, filename, module_name=f"{self.prefix.replace('-', '_')}{Path(filename).stem}"
        )


def _delete_function_and_mappings(name: str) -> None:
    mappings.delete_mappings_of(name)
    functions.delete_function(name)
    logs.delete_logs(name)
