"""The item bank's pure core: item types, scoring, papers, blueprints, sealing and imports as plain data
(no Flask, no database)."""

from item_bank.paper import PASS_MARK, score_paper
from item_bank.types import ITEM_TYPES, Item, ItemError, Option, item_to_data, parse_item

__all__ = ["ITEM_TYPES", "PASS_MARK", "Item", "ItemError", "Option", "item_to_data", "parse_item", "score_paper"]
