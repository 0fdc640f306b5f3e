"""The grading run's parent process: intake, the pool of workers (local or Dask),
the cluster check, the run's state, the main gradebook, the command.
"""
