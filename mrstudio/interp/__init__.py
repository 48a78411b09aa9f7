"""CT slice interpolation methods and their registry."""
