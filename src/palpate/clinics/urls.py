from django.urls import path

from palpate.clinics import views

app_name = "clinics"

urlpatterns = [
    path("switch/", views.switch_clinic, name="switch"),
    path("settings/", views.clinic_settings, name="settings"),
    path("staff/", views.staff, name="staff"),
    path("staff/invite/", views.invite, name="invite"),
    path("staff/<id:pk>/", views.member, name="member"),
    path("staff/invitations/<id:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("staff/invitations/<id:pk>/withdraw/", views.invitation_withdraw, name="invitation_withdraw"),
    path("join/<id:pk>/<str:token>/", views.join, name="join"),
]
