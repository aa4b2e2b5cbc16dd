"""``make service NAME=...``: a new service generated the way the example services are built.

The generator checks the name (:mod:`scaffold.names`), renders the templates in ``scaffold/templates/``
(:mod:`scaffold.generator`), registers the stack and the shard keys (:mod:`scaffold.registry`) and writes every
file or none (:mod:`scaffold.cli` is the command line).

Example::

    python -m scaffold inventory        # what make service NAME=inventory runs
"""
