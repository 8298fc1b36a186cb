"""Parallel jobs (Azure's ``ParallelRunStep`` / CLI v2 ``type: parallel``): an entry script's
``init()`` / ``run(mini_batch)`` over mini-batches of a folder of files or of a table, on N
worker processes, with retries, an error threshold and ``append_row`` output.

``settings`` is the spec (read by ``jobs/spec.py`` for a ``type: parallel`` file), ``spec`` turns
it into the command job that runs ``runner``; ``batches`` splits the input, ``worker`` is one
worker process, ``rows`` writes what ``run()`` returns, ``progress`` reports.
"""
