"""PDF documents (handouts, signed notes, plans of care, progress reports) with WeasyPrint.

The same templates that render on screen render to PDF: SVG charts are inline markup, so they
print as vectors. A PDF of patient data is a read of that data and is audited by the caller.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.text import slugify

PRINT_CSS = """
@page { size: Letter; margin: 18mm 16mm 20mm; @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; color: #555; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #111; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 4mm; } h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; } th, td { border: 1px solid #bbb; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
th { background: #eee; } .muted { color: #555; } .signature { margin-top: 8mm; border-top: 1px solid #333; padding-top: 2mm; }
.warning { border: 2px solid #a4161a; padding: 2mm 3mm; } svg { max-width: 100%; }
"""


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> bytes:
    from weasyprint import CSS, HTML

    html = render_to_string(template, {**context, "print_css": PRINT_CSS}, request=request)
    # base_url lets relative static links resolve; documents embed their SVG inline anyway.
    base_url = request.build_absolute_uri("/") if request is not None else None
    return HTML(string=html, base_url=base_url).write_pdf(stylesheets=[CSS(string=PRINT_CSS)])  # type: ignore[no-any-return]


def pdf_response(pdf: bytes, title: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{slugify(title) or "document"}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
