"""The fixtures of lab toxicity_lab (tests/labs/toxicity_lab/fixtures.py); see tests/labs/__init__.py."""
