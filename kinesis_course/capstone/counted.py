"""Lesson 07's counter, plugged into the course's handler without editing it. Deployed next to handler.py.

handler.py stores a reading with ``write_reading(dynamodb, table_name, key, reading)``, a name it imported from
store.py. ``plug_in`` replaces that one name, in the handler module only, by a call of the learner's
``counting.write_counted(dynamodb, table_name, counter_table, key, reading)`` (Exercise 07.3), which stores the
reading and adds it to its sensor's count. Everything else of the handler runs as the lessons left it. The deployed
fault wrapper (faults.py) plugs it in when the function has a COUNTER_TABLE; the replay does the same, in-process.
This module uses only the standard library: it runs wherever the handler runs.
"""

import importlib


def counted_write(counting, counter_table: str):
    """A function with store.write_reading's signature that calls ``counting.write_counted`` with the counter table."""

    def write_reading(dynamodb, table_name, key, reading):
        return counting.write_counted(dynamodb, table_name, counter_table, key, reading)

    return write_reading


def plug_in(handler_module, counter_table: str, counting=None) -> None:
    """Makes ``handler_module`` store every reading with the counted write (``counting``: the learner's module,
    imported from the function's folder when not given)."""
    handler_module.write_reading = counted_write(counting or importlib.import_module("counting"), counter_table)
