"""The agent's desk: search, the customer and order screens (the answer card), notes and calls.

``search`` (anything a caller says), ``selectors`` (what the screens show), ``answer`` (the
answer card's sentences), ``views``, ``tables``, ``forms``, ``services`` (notes, identity
verified, the zone a person reads times in).
"""
