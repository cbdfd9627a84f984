from django.apps import AppConfig


class InteropConfig(AppConfig):
    """Data that leaves and comes in: the FHIR R4 API, bulk export and API tokens for other systems."""

    name = "palpate.interop"
    label = "interop"
    verbose_name = "Palpate interoperability (FHIR)"

    def ready(self) -> None:
        from palpate.interop.fhir import registry

        registry.load_builtin()
