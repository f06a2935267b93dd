"""A mapping's life as AWS documents it: disabling or deleting a mapping stops its invocations, and a disabled
mapping can be deleted; a deleted mapping's state goes with it.

- A retry loop ends with its mapping. LocalStack 4.14's worker sets its own shutdown event on disable or delete, but
  the poller's retry loop waits on the poller's event, so a failing batch kept being retried (forever with
  MaximumRetryAttempts -1) after the mapping was gone. AWS stops invoking once a mapping is disabled or deleted.
- A disabled mapping can be deleted. LocalStack removes a deleted mapping from its store when the mapping's poller
  loop ends; a disabled mapping has no loop, so it stayed listed as "Deleting" forever, and a lesson run again found
  the previous run's mapping in ListEventSourceMappings. AWS deletes disabled mappings too.
- A deleted mapping's checkpoints, clock factor and windows are forgotten (state.forget): a new mapping on the same
  stream starts from its StartingPosition, as on AWS.
"""

from __future__ import annotations

from . import state


def also_end_poller_retries(method, self, *args, **kwargs):
    """Patch of EsmWorker.stop and EsmWorker.stop_for_shutdown."""
    # AWS: disabling or deleting a mapping stops its invocations, including the retries of a failing batch.
    result = method(self, *args, **kwargs)
    self.poller.close()
    return result


def delete_even_without_poller_loop(delete, self):
    """Patch of EsmWorker.delete."""
    also_end_poller_retries(delete, self)
    loop = self._poller_thread
    # An enabled worker's running loop removes the mapping when it ends. A disabled worker never had a loop
    # (or its loop is ending as a stopped one, which does not remove it): remove the mapping here.
    if not self.enabled or loop is None or not loop.is_alive():
        self.delete_esm_in_store()


def forget_deleted_mapping(delete_esm_in_store, self):
    """Patch of EsmWorker.delete_esm_in_store."""
    state.forget(self.uuid)
    return delete_esm_in_store(self)
