from django.http import HttpRequest

from palpate.clinics.roles import ALL_ACTIONS


def active_clinic(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    # Templates cannot call actor.can(...); `can.patient_write` etc. answer the same question.
    can = {action.replace(".", "_"): bool(actor and actor.can(action)) for action in ALL_ACTIONS}
    return {
        "actor": actor,
        "clinic": actor.clinic if actor else None,
        "memberships": getattr(request, "memberships", []),
        "can": can,
    }
