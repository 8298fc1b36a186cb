"""``python -m trainyard`` is the ``trainyard`` command."""

from trainyard.cli.main import main

main()
