"""Command-line interface over the messaging client: send, request, publish, scatter-gather, inspect and redrive.

Run it as ``fifo-messaging --help`` (the console script of the ``fifo-messaging`` wheel, which ``make setup`` installs
into ``.venv/bin`` in editable mode; usable from any directory) or ``python -m cli --help`` from the checkout. The
runtime it drives is the ``messaging`` package (the ``fifo-messaging-runtime`` wheel), the example system's message
catalogue is ``catalogue``: both are installed packages, nothing is put on ``sys.path`` by hand.
"""
