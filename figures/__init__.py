"""The measured figures of the docs pages, kept as files and rendered from them.

``make bench ARGS=--record`` and ``make chaos ARGS=--record`` write the JSON object their last line prints, with the
command, the date and a note on the machine, to ``docs/results/<name>.json`` (:mod:`figures.record`); ``make figures``
rewrites the pages' blocks between ``<!-- figures:NAME:begin -->`` and ``<!-- figures:NAME:end -->`` from those
files (:mod:`figures.readme`, tables in :mod:`figures.bench` and :mod:`figures.chaos`).
"""
