"""Access-matrix rows for the visits app (see test_access.py)."""

PATIENT_URLS = {
    "visits:list": ("/patients/{p}/visits/", False),
    "visits:start": ("/patients/{p}/visits/start/{e}/", True),
    "visits:note": ("/patients/{p}/visits/{v}/", False),
    "visits:live": ("/patients/{p}/visits/{v}/live/", True),
    "visits:row": ("/patients/{p}/visits/{v}/row/", True),
    "visits:sign": ("/patients/{p}/visits/{v}/sign/", True),
    "visits:addendum": ("/patients/{p}/visits/{v}/addendum/", True),
    "visits:pdf": ("/patients/{p}/visits/{v}/note.pdf", False),
}
