"""The progress chart (SVG for screen and PDF) and the progress report PDF."""

from __future__ import annotations

import datetime as dt
import re

from palpate.audit.models import AuditEvent
from palpate.outcomes.charts import (
    HEIGHT,
    PLOT_H,
    TOP,
    ChartPoint,
    format_score,
    nice_step,
    render_progress_chart,
)
from tests.web.test_outcomes import measure


def odi_chart(points: list[tuple[dt.date, float]], visits: list[dt.date] = ()) -> str:  # type: ignore[assignment]
    return str(render_progress_chart(
        title="ODI: Disability index", points=[ChartPoint(d, s) for d, s in points], low=0, high=100,
        better="lower", units="percent (0-100)", mcid=10, visit_dates=visits, chart_id="chart-odi",
    ))


def y_for(score: float, low: float = 0, high: float = 100) -> float:
    return round(TOP + (high - score) / (high - low) * PLOT_H, 1)


def test_the_chart_draws_the_baseline_and_the_mcid_band_around_it_with_text_labels():
    svg = odi_chart([(dt.date(2026, 10, 5), 48), (dt.date(2026, 11, 2), 30)])
    baseline = re.search(r'<line class="baseline" x1="[\d.]+" y1="([\d.]+)"', svg)
    assert baseline and float(baseline.group(1)) == y_for(48)
    band = re.search(r'<g class="mcid-band"><title>MCID band: 38 to 58</title><rect x="[\d.]+" y="([\d.]+)" '
                     r'width="[\d.]+" height="([\d.]+)"', svg)
    assert band, "the band spans baseline ± MCID"
    assert float(band.group(1)) == y_for(58) and round(float(band.group(2)), 1) == round(y_for(38) - y_for(58), 1)
    # Not colour alone: the band and the baseline are named in text, and so is the better end.
    assert "MCID band: baseline ± 10 (no important change inside)" in svg and "Baseline 48" in svg
    assert "↓ lower is better" in svg
    assert ">48</text>" in svg and ">30</text>" in svg, "every point carries its score"


def test_the_chart_marks_visit_days_and_dates_on_the_x_axis():
    svg = odi_chart([(dt.date(2026, 10, 5), 48)], visits=[dt.date(2026, 10, 5), dt.date(2026, 10, 12)])
    assert svg.count('class="visit-mark"') == 2 and "<title>Visit 2026-10-12</title>" in svg
    assert ">2026-10-05</text>" in svg


def test_the_chart_is_self_contained_svg_that_describes_itself_for_screen_readers():
    svg = odi_chart([(dt.date(2026, 10, 5), 48), (dt.date(2026, 11, 2), 30)], visits=[dt.date(2026, 10, 12)])
    assert svg.startswith('<svg id="chart-odi" class="progress-chart" xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img" aria-labelledby="chart-odi-title chart-odi-desc"' in svg
    assert ("2 scores in percent (0-100), lower is better. Baseline 48 on 2026-10-05, latest 30 on 2026-11-02. "
            "MCID band: baseline plus or minus 10. 1 visit day marked.") in svg
    assert "class=\"" not in svg.replace('class="progress-chart"', "").replace('class="baseline"', "").replace(
        'class="mcid-band"', "").replace('class="visit-mark"', "").replace('class="point"', "").replace(
        'class="legend"', ""), "classes only name parts; all drawing is in attributes (prints without CSS)"
    assert f'height="{HEIGHT}"' in svg and "<script" not in svg and "<style" not in svg


def test_the_band_is_clipped_to_the_scale_range_and_the_better_end_follows_the_instrument():
    svg = str(render_progress_chart(title="LEFS", points=[ChartPoint(dt.date(2026, 10, 5), 76)], low=0, high=80,
                                    better="higher", units="points (0-80)", mcid=9))
    assert "<title>MCID band: 67 to 80</title>" in svg and "↑ higher is better" in svg


def test_a_chart_without_a_score_says_so_instead_of_drawing_nothing():
    svg = odi_chart([])
    assert "No score yet" in svg and "mcid-band" not in svg and "ODI: Disability index: no score yet." in svg


def test_text_in_the_chart_is_escaped():
    svg = str(render_progress_chart(title="<b>x</b>", points=[], low=0, high=10, better="lower", units="pts",
                                    mcid=2))
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


def test_scores_print_with_at_most_two_decimals_and_axis_steps_are_round():
    assert [format_score(v) for v in (35.55555, 32.0, 1.95, 4.5, None)] == ["35.56", "32", "1.95", "4.5", "—"]
    assert [nice_step(span) for span in (100, 80, 10, 4)] == [20, 20, 2, 1]


def test_the_progress_report_is_a_pdf_with_the_charts_and_its_read_is_audited(world, as_user):
    measure(world, "odi", dt.date(2026, 10, 20), 48.0)
    measure(world, "odi", dt.date(2026, 11, 20), 30.0)
    url = f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/report.pdf"
    response = as_user(world.bob).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith('attachment; filename="progress-report-garcia-maria')
    event = AuditEvent.objects.get(action="outcomes.pdf")
    assert event.actor == world.bob and event.patient_id == world.harbor_patient.pk


def test_the_report_template_embeds_the_same_svg_chart_as_the_page(world, rf):
    from django.template.loader import render_to_string

    from palpate.outcomes.progress import episode_progress

    measure(world, "odi", dt.date(2026, 10, 20), 48.0)
    measure(world, "odi", dt.date(2026, 11, 20), 30.0)
    request = rf.get("/")
    request.user = world.alice
    html = render_to_string("outcomes/report_pdf.html", {
        "patient": world.harbor_patient, "episode": world.harbor_episode,
        "progress": episode_progress(world.harbor_episode), "printed_on": dt.date(2026, 11, 29),
    }, request=request)
    assert '<svg id="chart-odi"' in html and "MCID band: baseline ± 10" in html and "Baseline 48" in html
    assert "no current NPRS: the bridge to active rehab needs one" in html
    assert "ODI 48 -&gt; 30 (change -18, MCID 10)" in html
