"""gemfinder's search: query understanding (constraints from free text) and retrieval over the catalog."""

from __future__ import annotations

from search.filters import filter_mask
from search.query import Constraints, ParsedQuery, parse_query

__all__ = ["Constraints", "ParsedQuery", "filter_mask", "parse_query"]
