"""The patient side, mounted at /portal/ by palpate.web.urls. Nothing here is a staff page."""

from django.urls import path, re_path

from palpate.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:slug>/sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("welcome/<str:token>/", views.welcome, name="welcome"),
    path("c/<str:token>/", views.check_in_link, name="check_in_link"),
    path("q/<str:token>/", views.questionnaire_link, name="questionnaire_link"),
    path("check-ins/<int:pk>/", views.check_in, name="check_in"),
    path("exercises/", views.exercises, name="exercises"),
    path("exercises/reminders/", views.reminders, name="reminders"),
    path("questionnaires/<int:pk>/", views.questionnaire, name="questionnaire"),
    path("progress/", views.progress, name="progress"),
    path("handouts/", views.handouts, name="handouts"),
    path("handouts/<int:plan_pk>.pdf", views.handout_pdf, name="handout_pdf"),
    # Anything else under /portal/ is the portal's own "not found" page, never the staff one.
    re_path(r"^.*$", views.not_found, name="not_found"),
]
