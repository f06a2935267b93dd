"""Lesson 07's harness: the fault run around the handler the course built.

producer  readings, bad records and a producer that retries (the ground truth)
catalog   the kinds of bad input, and what the handler must do with each
faults    the wrapper deployed as ``faults.handler``: transient errors, throttles, crashes, timeouts, an outage
counted   plugs the learner's counted write (counting.py, Exercise 07.3) into the handler, unedited
run       deploy with the wrapper, switch faults by configuration, read the INVOKE and FAULT lines
replay    the OnFailure queue drained, failed ranges re-read from the stream
proof     the checks computed from the ground truth, as a table
picture   records over time: delivered, retried, bisected, given up
"""
