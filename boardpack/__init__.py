"""boardpack: the quarterly AI value board pack."""

__version__ = "0.1.0"
