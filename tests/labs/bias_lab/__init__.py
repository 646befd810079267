"""The fixtures of lab bias_lab (tests/labs/bias_lab/fixtures.py); see tests/labs/__init__.py."""
