from django.urls import path

from palpate.visits import views

app_name = "visits"

# Mounted under /patients/<id:pk>/visits/ by palpate.web.urls: every view takes the patient pk.
urlpatterns = [
    path("", views.visit_list, name="list"),
    path("start/<id:episode_pk>/", views.start_visit, name="start"),
    path("<id:visit_pk>/", views.visit_note, name="note"),
    path("<id:visit_pk>/live/", views.live, name="live"),
    path("<id:visit_pk>/row/", views.new_row, name="row"),
    path("<id:visit_pk>/sign/", views.sign_visit, name="sign"),
    path("<id:visit_pk>/addendum/", views.add_addendum, name="addendum"),
    path("<id:visit_pk>/void/", views.void_visit, name="void"),
    path("<id:visit_pk>/note.pdf", views.note_pdf, name="pdf"),
]
