"""``make demo``: the example system on an embedded local cloud, every messaging style run and checked."""
