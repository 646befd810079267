"""The fixtures of lab explain_lab (tests/labs/explain_lab/fixtures.py); see tests/labs/__init__.py."""
