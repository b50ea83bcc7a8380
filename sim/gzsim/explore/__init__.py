"""The policy explorer behind ``gzsim explore``: a browser page over the comparison API.

Plain modules hold the logic (:mod:`.levers` turns the page's fields into a scenario file,
:mod:`.session` runs paired comparisons with a cache and cancellation, :mod:`.figures` draws the
paired difference with both bands, :mod:`.bundle` writes what the page offers for download); the
page itself (Panel) is :mod:`.page`, imported only by the command that serves it.
"""
