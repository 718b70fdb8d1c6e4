"""The candidate's exam: sittings, attempts, the clock, answers and scoring."""
