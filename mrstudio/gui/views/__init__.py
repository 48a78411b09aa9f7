"""Image views."""
