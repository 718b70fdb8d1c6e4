"""The exam admin's side of a sitting (考务, issue 8): setting it up from the test centre's own data."""
