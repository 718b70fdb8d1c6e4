"""The item bank as stored by the server (the pure item logic lives in the ``item_bank`` package)."""
