"""newsletter: write a monthly email update as YAML, preview, check and send it safely."""

__version__ = "0.1.0"
