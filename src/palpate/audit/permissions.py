"""The action the audit log page asks for.

The role matrix (``palpate.clinics.roles``) grants it to owners and auditors; it is declared here
because the audit trail sits below the clinics and must not import them.
"""

AUDIT_VIEW = "audit.view"
