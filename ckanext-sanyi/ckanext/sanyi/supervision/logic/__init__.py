"""Actions and auth functions of the supervision view."""
