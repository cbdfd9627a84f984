"""Palpate's knowledge base: versioned YAML data files with their loaders and schema checks.

Each file carries sources and evidence grades next to every rule. ``KB_VERSION`` is reported in
every plan so a saved plan can be traced to the rules that produced it.
"""

KB_VERSION = "2026.2"
