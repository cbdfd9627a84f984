"""The actions the audit trail's pages ask for.

The role matrix (``palpate.clinics.roles``) grants them (the log to owners and auditors, exports
and signed checkpoints to owners); they are declared here because the audit trail sits below the
clinics and must not import them.
"""

AUDIT_VIEW = "audit.view"
AUDIT_EXPORT = "audit.export"
