"""The self-contained demo site of ``jikao demo``."""
