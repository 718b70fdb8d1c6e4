"""The proctor's console: rooms, seats, identity confirmation and the start signal."""
