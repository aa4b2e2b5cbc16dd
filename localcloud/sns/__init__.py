"""SNS in the local cloud: moto's SNS models with the fixes AWS documents (FIFO topic deduplication, publish
validation, raw message delivery: :mod:`.patches`).

Example::

    from localcloud.sns import patches
"""
