"""Lab 6b, "Explain the classifier": its modes, visible checks and fixtures (see toxlab/labs/__init__.py)."""
