"""The lock files install what requirements.txt asks for: `make setup` installs from requirements.lock only."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def test_requirements_lock_pins_every_requirement_at_its_version():
    wanted, locked = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements.lock")
    assert wanted, "requirements.txt pins nothing?"
    wrong = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
    assert not wrong, (
        f"requirements.lock does not match requirements.txt for {wrong} (wanted, locked): run `make lock` "
        "and commit requirements.lock"
    )


def test_the_lock_pins_everything_it_installs():
    # uv pip sync installs exactly the lock's lines: each must be an exact pin (transitive dependencies included).
    lines = [line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    assert entries and all(PIN.match(line) for line in entries), [line for line in entries if not PIN.match(line)][:5]
    assert len(entries) > 2 * len(pins(ROOT / "requirements.txt"))  # the transitive ones are there too


def test_localstack_lock_pins_localstack_4_14():
    assert pins(ROOT / "localstack-extension" / "localstack.lock").get("localstack-core") == "4.14.0"
