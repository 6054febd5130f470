"""DeepScope: see how deep networks train."""

__version__ = "0.1.0"
