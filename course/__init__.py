"""Backprop Lab: the course's data and the instructor tooling.

Modules, one job each:
  layout      where things live (assignments, folders, nbgrader_config values)
  notebooks   reading/writing notebooks, solution regions, shared snippet cells
  data        the XOR and iris data sets
  grading     helpers imported by the hidden tests (gradient check, messages, points)
  release     build release/ from source/ with nbgrader, add badges, refuse leaks
  check       prove every source notebook: solutions pass, stubs fail
  __main__    the command line: python -m course {release,check,...}
"""
