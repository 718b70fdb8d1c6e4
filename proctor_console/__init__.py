"""The proctor's browser console: static HTML/CSS/ES modules served by the server (no build step)."""
