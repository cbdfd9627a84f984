"""Outcome questionnaires, progress charts, responder status and progression signals."""
