"""OdooAdapter: mapping of search_read rows, both transports, keyset paging and Odoo's errors: the fixtures its tests share."""

from __future__ import annotations
