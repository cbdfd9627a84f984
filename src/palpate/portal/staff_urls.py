"""Staff pages about a patient's portal, mounted under /patients/<id:pk>/portal/ (the patient door first)."""

from django.urls import path

from palpate.portal import staff_views

app_name = "portal_staff"

urlpatterns = [
    path("access/", staff_views.access, name="access"),
    path("warning-signs/", staff_views.flags, name="flags"),
    path("check-ins/", staff_views.check_ins, name="check_ins"),
    path("questionnaires/", staff_views.questionnaires, name="questionnaires"),
]
