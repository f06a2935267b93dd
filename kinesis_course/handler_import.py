"""Importing the handler's files as Lambda does: from their folder, afresh, with sibling imports resolved there.

Lambda puts the deployment folder on sys.path and imports the handler's module by its file's name, so
``from decoding import decode_record`` in handler.py finds the decoding.py beside it. A notebook, a check and the
capstone's replay all import from build folders within one Python process, where an earlier import stays cached:
a learner's changed file, or a same-named file from another lesson's folder, would answer instead. This module is
the one way the kit imports a handler file, and it forgets those first.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_fresh(folder: str | Path, filename: str = "handler.py", module_name: str | None = None) -> ModuleType:
    """Runs ``folder/filename`` as a new module (``module_name``, by default the file's name) and returns it.

    The folder goes first on sys.path and stays there, as in Lambda, for imports the module makes later. Every
    cached module named like a file of the folder, or loaded from the folder, is forgotten first.
    """
    folder = Path(folder).resolve()
    path = folder / filename
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run the cell that writes it first.")
    entry = str(folder)
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)
    own_names = {sibling.stem for sibling in folder.glob("*.py")}
    for name, loaded in list(sys.modules.items()):
        origin = getattr(loaded, "__file__", None)
        if name in own_names or (origin and Path(origin).resolve().parent == folder):
            del sys.modules[name]
    name = module_name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]  # a half-run module must not answer the next import
        raise
    return module
