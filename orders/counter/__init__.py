"""The store counter context: the pickup board, the checklist a clerk walks, the handover, and the pushes upstream.

``selectors`` (the board and the checklist), ``services`` (checking lines, the handover, the
outbox of pickup states pushed to the systems that hold the order), ``views``.
"""
