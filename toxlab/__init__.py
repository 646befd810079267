"""toxlab: fine-tune a BERT toxicity classifier on Jigsaw, evaluate it, and probe its bias.

Submodules load lazily so `import toxlab` stays fast in notebooks and grade cells.
"""

__version__ = "0.1.0"
