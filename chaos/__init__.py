"""``make chaos``: the example system under injected faults, checked for lost, duplicated and reordered effects.

Kept light on purpose: the baseline consumers of :mod:`chaos.naive` are loaded as Lambda handlers from this package.
"""
