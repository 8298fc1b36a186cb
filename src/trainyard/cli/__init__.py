"""The ``trainyard`` command: ``trainyard <noun> <verb>``."""
