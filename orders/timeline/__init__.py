"""The timeline context: every event of an order or a customer, from any system, in one table.

``events`` builds the rows (one public constructor per kind of event) and writes them once
(``events_write``: a key makes writing the same event twice a no-op).
"""
