"""The candidate's browser client: static HTML/CSS/ES modules served by the server (no build step)."""
