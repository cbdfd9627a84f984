"""The pure clinical core: knowledge base, screening, planning, measures and billing.

No Django, no I/O beyond reading the packaged knowledge-base files, no network. Every public
function takes plain values and returns frozen dataclasses or JSON-ready dicts.
"""
