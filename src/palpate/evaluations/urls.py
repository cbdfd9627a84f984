from django.urls import path

from palpate.evaluations import views

app_name = "evaluations"

# Mounted under /patients/<id:pk>/evaluations/ by palpate.web.urls: every view takes the patient pk.
urlpatterns = [
    path("episode/<id:episode_pk>/new/", views.evaluation_create, name="create"),
    path("episode/<id:episode_pk>/check/", views.evaluation_check, name="check"),
    path("rows/<slug:kind>/", views.evaluation_row, name="row"),
    path("<id:evaluation_pk>/", views.evaluation_detail, name="detail"),
    path("<id:evaluation_pk>/edit/", views.evaluation_edit, name="edit"),
    path("<id:evaluation_pk>/sign/", views.evaluation_sign, name="sign"),
    path("<id:evaluation_pk>/addendum/", views.evaluation_addendum, name="addendum"),
    path("<id:evaluation_pk>/evaluation.pdf", views.evaluation_pdf, name="pdf"),
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/<id:referral_pk>/letter/", views.referral_letter, name="referral_letter"),
    path("referrals/<id:referral_pk>/letter.pdf", views.referral_pdf, name="referral_pdf"),
    path("referrals/<id:referral_pk>/status/", views.referral_status, name="referral_status"),
    path("<id:evaluation_pk>/void/", views.void_evaluation, name="void"),
]
