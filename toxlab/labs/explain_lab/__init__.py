"""Lab 6b, "Explain the classifier": its modes and visible checks (see toxlab/labs/__init__.py; its fixtures are in tests/labs/)."""
