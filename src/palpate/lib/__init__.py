"""Shared Django helpers below every app: they import the clinical core and Django, never an app.

The adapter to the clinical core (``clinical``), signed records and optimistic locking
(``models_common``, ``records``), view decorators, the body chart, PDFs, pagination and id
converters, the one vocabulary for forms and templates (``vocabulary``), the page template
(``base.html``) and its shared partials and template tags. See ARCHITECTURE.md for the layers.
"""
