"""Lab 6a, "Fine-tune and probe": its modes and visible checks (see toxlab/labs/__init__.py; its fixtures are in tests/labs/)."""
