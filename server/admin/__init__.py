"""The exam admin (考务管理员): blueprints, simulations and the papers of each sitting."""
