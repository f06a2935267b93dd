"""Helper servers that LocalStack starts end when LocalStack ends, even when it is killed.

LocalStack runs kinesis-mock (``node .../kinesis-local/main.js``) in a session of its own. A normal stop ends
it, but if LocalStack is killed (SIGKILL, the OOM killer, a closed terminal that takes only the main process)
the node process stays behind, orphaned, until the learner finds and kills it by hand. The course's rule is
that stopping LocalStack, however it happens, leaves nothing running.

The guard is a launcher: ``python -m kinesis_course_localstack.parent_guard <parent pid> <command...>``.
On Linux it asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``, kept across ``exec``) and
then becomes the command, so nothing stays in between. Elsewhere it runs the command as a child, watches its
own parent every half second (as ``runtime_init`` does) and ends the child when that parent is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from localstack.runtime import hooks

PR_SET_PDEATHSIG = 1


@hooks.on_infra_start()
def guard_kinesis_mock() -> None:
    """Wraps kinesis-mock's command in the guard, before any service starts."""
    from localstack.services.kinesis.kinesis_mock_server import KinesisMockNodeServer, KinesisMockScalaServer
    from localstack.utils.patch import Patch

    for server in (KinesisMockNodeServer, KinesisMockScalaServer):
        Patch.function(server._create_shell_command, _guarded_command).apply()


def _guarded_command(create_shell_command, self):
    command, environment = create_shell_command(self)
    # The parent is LocalStack itself: the guard is started by one of its threads.
    return [sys.executable, "-m", __name__, str(os.getpid()), *command], environment


def _die_with_parent_linux() -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _supervise(parent: int, command: list[str]) -> int:
    child = subprocess.Popen(command)

    def forward(signum, _frame):
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    while child.poll() is None:
        if os.getppid() != parent:
            child.kill()
            break
        try:
            child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    code = child.wait()
    return code if code >= 0 else 128 - code


def main() -> None:
    parent, command = int(sys.argv[1]), sys.argv[2:]
    # PDEATHSIG fires when the spawning *thread* ends; LocalStack's ShellCommandThread lives as long as
    # kinesis-mock runs (it reads its output and restarts it), so here that is the same as LocalStack ending.
    if sys.platform.startswith("linux") and _die_with_parent_linux():
        # The parent may have died before the request took effect: then nobody would send the signal.
        if os.getppid() != parent:
            raise SystemExit(1)
        os.execvp(command[0], command)
    raise SystemExit(_supervise(parent, command))


if __name__ == "__main__":
    main()
