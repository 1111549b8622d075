"""contact_center: an open-source contact center on Asterisk."""

__version__ = "0.1.0"
