"""A bounded CPU load for soak runs: one busy process per core, started and always stopped by the tool using it.

    with CpuLoad():            # every core busy until the block ends
        run_the_notebooks()

A workshop laptop is slow, throttled, on battery or indexing files; `make soak LOAD=1` plays that by keeping every
core busy while the notebooks run. Nothing of it may outlive the tool, however the tool ends:

- leaving the block (normally, on an exception, on Ctrl-C) terminates and reaps every busy process;
- if the tool is killed (SIGKILL, a closed terminal), each busy process sees that its parent is gone (Linux also
  kills it at once: ``PR_SET_PDEATHSIG``) and exits within a tenth of a second;
- whatever happens, each busy process exits by itself at its deadline.

A busy process is this file run as ``python cpu_load.py <parent pid> <deadline, epoch seconds>``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
CHECK_EVERY_S = 0.1  # how often a busy process looks at its parent and its deadline


def _die_with_parent() -> None:
    if sys.platform != "linux":
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the parent check below still ends the process


def busy(parent: int, deadline: float) -> None:
    """Keeps one core busy until ``deadline`` or until ``parent`` is no longer this process's parent."""
    _die_with_parent()
    while os.getppid() == parent and time.time() < deadline:
        until = time.monotonic() + CHECK_EVERY_S
        while time.monotonic() < until:
            sum(range(1_000))


class CpuLoad:
    """One busy process per core (``processes``: how many instead) for at most ``max_seconds``."""

    def __init__(self, processes: int | None = None, max_seconds: float = 4 * 3600) -> None:
        self.processes = processes or os.cpu_count() or 1
        self.max_seconds = max_seconds
        self.children: list[subprocess.Popen] = []

    def start(self) -> CpuLoad:
        deadline = time.time() + self.max_seconds
        for _ in range(self.processes):
            self.children.append(
                subprocess.Popen(
                    [sys.executable, __file__, str(os.getpid()), str(deadline)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,  # a Ctrl-C in the terminal reaches the tool, which stops them itself
                )
            )
        return self

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children = []

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self.children]

    def __enter__(self) -> CpuLoad:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


if __name__ == "__main__":
    busy(int(sys.argv[1]), float(sys.argv[2]))
