"""The exam admin's screens (考务管理): static files served by the Jikao server."""
