from django.urls import path, re_path

from palpate.interop import views

app_name = "interop"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    re_path(r"^tokens/(?P<token_pk>[0-9]{1,18})/revoke/$", views.revoke, name="revoke"),
]

# /fhir/R4/...: ids are checked by the views (a FHIR id, not only digits), so another clinic's or an
# unknown id is an OperationOutcome 404 from one place.
fhir_patterns = [
    path("", views.root, name="fhir_root"),
    path("metadata", views.metadata, name="fhir_metadata"),
    path("$export", views.export_system, name="fhir_export"),
    path("$export-status/<str:export_id>", views.export_status, name="fhir_export_status"),
    path("$export-file/<str:export_id>/<str:filename>", views.export_file, name="fhir_export_file"),
    path("Patient/$export", views.export_patients, name="fhir_export_patients"),
    path("Group/<str:group_id>/$export", views.export_group, name="fhir_export_group"),
    path("Patient/<str:resource_id>/$everything", views.everything, name="fhir_everything"),
    path("<str:type_name>/_search", views.search_post, name="fhir_search"),
    path("<str:type_name>", views.type_level, name="fhir_type"),
    path("<str:type_name>/<str:resource_id>", views.instance, name="fhir_instance"),
]
