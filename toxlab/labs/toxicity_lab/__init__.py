"""Lab 6a, "Fine-tune and probe": its modes, visible checks and fixtures (see toxlab/labs/__init__.py)."""
