"""aestudio: a desktop studio for autoencoders."""

__version__ = "0.1.0"
