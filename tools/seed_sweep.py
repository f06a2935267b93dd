"""A pytest plugin for `make sweep`: runs each selected test once per check seed, to find the draws on which a
check lets a wrong answer through (or rejects it with another mistake's hint).

A check draws its cases afresh on every run (`fresh_random`, KC_CHECK_SEED); one green run proves one draw. This
runs each test's body with KC_CHECK_SEED set to every seed of SWEEP_SEEDS ("first:stop", default "0:50") and fails
with the first seed that fails, so that `KC_CHECK_SEED=<seed>` reproduces it. Meant for the LocalStack-free tests
of the checks (`-m "not localstack"`): their bodies can run again in one process.
"""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    first, stop = (int(bound) for bound in os.environ.get("SWEEP_SEEDS", "0:50").split(":"))
    saved = os.environ.get("KC_CHECK_SEED")
    try:
        for seed in range(first, stop):
            os.environ["KC_CHECK_SEED"] = str(seed)
            try:
                item.runtest()
            except pytest.skip.Exception:
                raise
            except BaseException as error:
                raise AssertionError(f"KC_CHECK_SEED={seed}: {error}") from error
    finally:
        if saved is None:
            os.environ.pop("KC_CHECK_SEED", None)
        else:
            os.environ["KC_CHECK_SEED"] = saved
    return (yield)
