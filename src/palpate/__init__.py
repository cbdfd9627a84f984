"""Palpate: clinic software for soft-tissue and manual therapy in physical therapy."""

__version__ = "0.1.0"
