from django.urls import path

from palpate.plans import views

app_name = "plans"

# Mounted under /patients/<id:pk>/plans/ by palpate.web.urls: every view takes the patient pk.
urlpatterns = [
    path("episodes/<id:episode_pk>/new/", views.plan_create, name="create"),
    path("<id:plan_pk>/", views.plan_detail, name="detail"),
    path("<id:plan_pk>/edit/", views.plan_edit, name="edit"),
    path("<id:plan_pk>/sign/", views.plan_sign, name="sign"),
    path("<id:plan_pk>/addendum/", views.plan_addendum, name="addendum"),
    path("<id:plan_pk>/handout.pdf", views.handout_pdf, name="handout"),
    path("<id:plan_pk>/plan.pdf", views.plan_pdf, name="pdf"),
    path("<id:plan_pk>/void/", views.void_plan, name="void"),
]
