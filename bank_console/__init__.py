"""The bank admin's browser screens: static HTML/CSS/ES modules served by the server (no build step)."""
