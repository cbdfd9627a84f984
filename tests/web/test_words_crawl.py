"""No internal code reaches a person: every staff page, as each role, and the patient portal, with the demo.

The demo (``palpate.demo``) is seeded once for the module (rolled back at the end, like
tests/web/test_demo_history.py). The pages are every URL pattern the resolver knows, so a new page
is crawled without anyone listing it; its path parameters are filled from the demo's records (every
patient with a history, their episodes, evaluations, referrals, plans, visits and measurements). A
pattern whose parameter the crawl cannot fill fails the test, which says what to teach it.

From each page the crawl keeps the text a person sees (tags, scripts and styles stripped; of the
attributes only ``title``, ``aria-label``, ``placeholder`` and ``alt``) and fails on any code of
the knowledge base (``palpate.core``: its vocabulary, measures, policy settings, vital signs,
sources) that is not itself an English word, on references to the knowledge base's files
("planning-policy.md", "facts.md F.3") and on the other internal phrases the probe found. PDFs are
checked through the HTML WeasyPrint is given, which is the text the PDF prints.

The therapist walks every record; the other roles walk one record per pattern (their pages show the
same words; what differs by role is which pages open, tested by tests/web/test_role_matrix.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from palpate.accounts.models import User
from palpate.clinics.models import Clinic, Membership
from palpate.clinics.roles import Role
from palpate.demo.seed import demo_password, seed_demo
from palpate.discharge.models import Discharge
from palpate.evaluations.models import Evaluation, Referral
from palpate.outcomes.models import OutcomeMeasurement
from palpate.patients.models import Episode, Patient
from palpate.plans.models import PlanOfCare
from palpate.portal.models import PortalAccount, QuestionnaireAssignment
from palpate.reported.models import CheckIn
from palpate.scheduling.models import Appointment
from palpate.visits.models import Visit

# -- what must never be shown ---------------------------------------------------------------------


@cache
def internal_codes() -> frozenset[str]:
    """Every code of the knowledge base that a clinician would not write as a word.

    A code with an underscore (``low_back_pain``, ``temperature_c``, ``session_minutes_min``) or a
    digit (``wells1997``) is internal; a code like ``light`` or ``knee`` is also a word and is not
    listed. Measure codes (``odi``, ``quickdash``) are internal in lower case: the words are the
    abbreviations the instrument prints ("ODI", "QuickDASH"); they are matched case-sensitively.
    """
    from palpate.core import vocabulary
    from palpate.core.kb.clinical import knowledge_base
    from palpate.core.measures.catalogue import catalogue

    kb = knowledge_base()
    codes: set[str] = set()
    for kind in vocabulary.OWN_KINDS + vocabulary.LOOKUP_ORDER:
        codes |= {code for code, _ in vocabulary.choices(kind)}
    codes |= set(kb.sources) | set(kb.policy_settings) | set(kb.techniques) | set(kb.conditions) | set(kb.rules)
    codes |= {e.code for e in kb.exercises} | set(kb.therapies) | set(kb.phases)
    for instrument in catalogue().instruments.values():
        codes.add(instrument.code)
        for scale in instrument.scales:
            codes.add(scale.code)
            codes |= {band.code for band in scale.bands}
    return frozenset(code for code in codes if "_" in code or re.search(r"\d", code) or code in _measure_codes())


@cache
def _measure_codes() -> frozenset[str]:
    from palpate.core.measures.catalogue import catalogue

    return frozenset(catalogue().instruments)


# Words that are English words as well as codes of some list: never reported.
PHRASES = [
    (re.compile(r"[\w-]+\.(?:md|ya?ml|py)\b"), "a file name"),
    (re.compile(r"\bfacts\b\s*(?:\.md)?\s*[A-Z]\.\d"), "a reference into facts.md"),
    (re.compile(r"\bpalpate(?:\.\w+)+"), "a Python name"),
    (re.compile(r"\bNcci pair"), "a code capitalised as words (ncci_pair)"),
    (re.compile(r"(?<![\w/.-])[a-z]+(?:_[a-z0-9]+)+\b(?![/.])"), "a snake_case name"),
]


@cache
def _code_pattern() -> re.Pattern[str]:
    codes = sorted(internal_codes(), key=len, reverse=True)
    return re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, codes)) + r")(?![\w-])")


def internal_words(text: str) -> list[str]:
    found = [f"{match.group(1)!r} (a knowledge-base code)" for match in _code_pattern().finditer(text)]
    for pattern, what in PHRASES:
        found += [f"{match.group(0)!r} ({what})" for match in pattern.finditer(text)]
    return sorted(set(found))


class VisibleText(HTMLParser):
    """The text a person sees or hears: element text and the few attributes read out or shown."""

    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
    # Scripts and styles are not shown; text marked up as code (``<code>``, ``<pre>``) is a format a
    # person types (the licensed-wording file's keys), shown on purpose and set apart as such.
    HIDDEN = ("script", "style", "template", "code", "pre", "kbd", "samp")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_it_finds_codes_and_file_names_but_not_words():
    text = visible_text('<p title="anticoagulant_therapy">Light pressure at the knee</p><script>x="low_back_pain"</script>'
                        '<input value="lower_back"> see planning-policy.md section 4, facts.md F.3; odi 44.4; '
                        'palpate.ops.tasks.backup')
    found = internal_words(text)
    assert any("anticoagulant_therapy" in f for f in found)
    assert any("planning-policy.md" in f for f in found) and any("F.3" in f for f in found)
    assert any("'odi'" in f for f in found) and any("palpate.ops.tasks.backup" in f for f in found)
    assert not any("low_back_pain" in f or "lower_back" in f or "Light" in f or "knee" in f for f in found)
    assert not internal_words("ODI 44, Oswestry Disability Index; Planning policy, section 4")


# -- the demo and the pages -----------------------------------------------------------------------

ROLES = (Role.OWNER, Role.THERAPIST, Role.ASSISTANT, Role.FRONT_DESK, Role.AUDITOR)
# Not pages a person reads in the clinic: probes, downloads for other programs, sign-out, the APIs.
NOT_PAGES = {"healthz", "readyz", "accounts:logout", "scheduling:feed_ics", "audit:export", "clinics:switch",
             "portal:sign_out", "interop:revoke"}
# Pages that open only from a one-off link sent by email (a token the demo does not keep in clear);
# tests/web/test_staff.py, test_passwords_and_sessions.py and tests/portal/test_links.py read them.
EMAILED_LINKS = {"clinics:join", "accounts:password_reset_confirm", "portal:welcome", "portal:check_in_link",
                 "portal:questionnaire_link"}


@dataclass
class Demo:
    today: dt.date
    clinic: Clinic
    members: dict[str, User]
    patients: list[Patient]
    portal_account: PortalAccount
    pdf_html: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[Demo]:  # noqa: ANN001
    today = dt.date.today()
    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]), transaction.atomic():
        seed_demo(today)
        harbor = Clinic.objects.get(slug="harbor")
        members = {m.role: m.user for m in Membership.objects.filter(clinic=harbor).select_related("user")
                   .order_by("id")}
        # The demo has no assistant and no auditor; the crawl adds one of each.
        for role, username in ((Role.ASSISTANT, "crawl-assistant"), (Role.AUDITOR, "crawl-auditor")):
            user = User.objects.create_user(username=username, password=demo_password(), first_name=role.label)
            Membership.objects.create(clinic=harbor, user=user, role=role)
            members[role] = user
        with_history = list(Patient.objects.filter(clinic=harbor, evaluations__isnull=False).distinct().order_by("id"))
        _discharge_one(harbor, members[Role.OWNER], with_history)
        account = PortalAccount.objects.filter(clinic=harbor).order_by("id").first()
        assert with_history and account is not None, "the demo has no history to crawl"
        yield Demo(today, harbor, members, with_history, account)
        transaction.set_rollback(True)


def _discharge_one(clinic: Clinic, owner: User, patients: list[Patient]) -> None:
    """The demo discharges nobody: sign one summary (with an addendum) so its pages are crawled too."""
    from palpate.clinics.actor import Actor
    from palpate.discharge import services as discharge
    from palpate.lib.models_common import RecordStatus

    actor = Actor.of(Membership.objects.get(clinic=clinic, user=owner))
    for patient in reversed(patients):
        episode = Episode.objects.filter(patient=patient).order_by("id").first()
        if episode is None or Visit.objects.filter(episode=episode, status=RecordStatus.DRAFT).exists():
            continue
        draft = discharge.do_save_discharge(actor, episode, None, discharge.DischargeInput(reason="goals_met"))
        draft = discharge.do_save_discharge(actor, episode, draft, discharge.DischargeInput(
            reason="goals_met", goal_outcomes=["met"] * len(draft.goals)), draft.version)
        signed = discharge.do_sign_discharge(actor, draft, draft.version)
        discharge.do_add_discharge_addendum(actor, signed, "Phoned the patient a week later: no return of pain.")
        return
    pytest.fail("no demo episode without a draft note to discharge")


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), prefix + str(entry.pattern)


def crawled_patterns(portal: bool) -> list[tuple[str, str]]:
    out = []
    for name, pattern in _patterns(get_resolver()):
        if pattern.startswith(("api/", "fhir/")) or name in NOT_PAGES | EMAILED_LINKS or name == "portal:not_found":
            continue
        if pattern.startswith("portal/") == portal:
            out.append((name, pattern))
    return out


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _fill(pattern: str, values: dict[str, object]) -> str:
    return PARAMETER.sub(lambda m: str(values[m.group(1)]), pattern)


def urls_of(name: str, pattern: str, demo: Demo, every: bool) -> list[str]:
    """The pattern's URLs for the demo's records (one when ``every`` is false)."""
    params = PARAMETER.findall(pattern)
    if not params:
        return ["/" + pattern]
    clinic = demo.clinic
    rows: list[dict[str, object]] = []
    if pattern.startswith("patients/<"):
        for patient in demo.patients:
            base = {"pk": patient.pk}
            episodes = list(Episode.objects.filter(patient=patient).order_by("id").values_list("id", flat=True))
            kids: dict[str, list[object]] = {
                "episode_pk": episodes,
                "evaluation_pk": list(Evaluation.objects.filter(patient=patient).values_list("id", flat=True)),
                "referral_pk": list(Referral.objects.filter(evaluation__patient=patient).values_list("id", flat=True)),
                "plan_pk": list(PlanOfCare.objects.filter(patient=patient).values_list("id", flat=True)),
                "visit_pk": list(Visit.objects.filter(patient=patient).values_list("id", flat=True)),
                "measurement_pk": list(OutcomeMeasurement.objects.filter(patient=patient).values_list("id", flat=True)),
                "discharge_pk": list(Discharge.objects.filter(patient=patient).values_list("id", flat=True)),
                "instrument": _instruments(),
                "kind": _evaluation_row_kinds(),
            }
            rest = [p for p in params if p != "pk"]
            unknown = [p for p in rest if p not in kids]
            assert not unknown, f"teach the words crawl how to fill {unknown} in {name} ({pattern})"
            # Every combination of the patient's records (an episode and an instrument to record).
            rows += [{**base, **dict(zip(rest, values, strict=True))}
                     for values in itertools.product(*(kids[p] for p in rest))]
            if rows and not every:
                break
    elif params == ["pk"] and pattern.startswith("schedule/appointments/"):
        rows = [{"pk": pk} for pk in Appointment.objects.filter(clinic=clinic).order_by("starts_at")
                .values_list("id", flat=True)[:1 if not every else 10]]
    elif params == ["pk"] and pattern.startswith("clinics/staff/invitations/"):
        rows = []  # POST-only actions on an invitation; the staff page lists invitations
    elif params == ["pk"] and pattern.startswith("clinics/staff/"):
        rows = [{"pk": m.pk} for m in Membership.objects.filter(clinic=clinic).order_by("id")]
    elif params == ["day"]:
        rows = [{"day": demo.today.isoformat()}]
    elif params == ["pk"] and pattern.startswith("portal/check-ins/"):
        rows = [{"pk": pk} for pk in CheckIn.objects.filter(patient=demo.portal_account.patient).values_list("id", flat=True)]
    elif params == ["pk"] and pattern.startswith("portal/questionnaires/"):
        rows = [{"pk": pk} for pk in QuestionnaireAssignment.objects.filter(patient=demo.portal_account.patient)
                .values_list("id", flat=True)]
    elif params == ["plan_pk"] and pattern.startswith("portal/handouts/"):
        rows = [{"plan_pk": pk} for pk in PlanOfCare.objects.filter(patient=demo.portal_account.patient)
                .values_list("id", flat=True)]
    elif params == ["slug"] and pattern.startswith("portal/"):
        rows = [{"slug": clinic.slug}]
    else:
        pytest.fail(f"teach the words crawl how to fill {params} in {name} ({pattern})")
    if not every:
        rows = rows[:1]
    return ["/" + _fill(pattern, row) for row in rows]


@cache
def _instruments() -> list[str]:
    from palpate.core.measures.catalogue import catalogue

    return sorted(catalogue().instruments)


@cache
def _evaluation_row_kinds() -> list[str]:
    from palpate.evaluations.forms import ROW_FORMS

    return sorted(ROW_FORMS)


@pytest.fixture
def pdf_html(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The HTML every PDF of the request is drawn from (the words it prints)."""
    import weasyprint

    seen: list[str] = []
    plain = weasyprint.HTML

    def recording(*args: object, string: str | None = None, **kwargs: object) -> object:
        if string is not None:
            seen.append(string)
        return plain(*args, string=string, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", recording)
    return seen


def crawl(client: Client, urls: list[str], pdf_html: list[str]) -> tuple[int, dict[str, list[str]]]:
    """(pages read, {url: what it shows that it must not})."""
    read, problems = 0, {}
    for url in urls:
        pdf_html.clear()
        response = client.get(url)
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        if response.status_code != 200:
            continue  # 403 for this role, 405 for an action, a redirect: nothing to read
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/pdf"):
            texts = [visible_text(html) for html in pdf_html]
        elif content_type.startswith("text/html"):
            texts = [visible_text(response.content.decode())]
        else:
            continue
        read += 1
        found = sorted({problem for text in texts for problem in internal_words(text)})
        if found:
            problems[url] = found
    return read, problems


def _report(problems: dict[str, list[str]]) -> str:
    return "internal words on screen:\n" + "\n".join(f"  {url}: {', '.join(found)}" for url, found in problems.items())


@pytest.mark.django_db  # each test in a savepoint on top of the module's demo
@pytest.mark.parametrize("role", ROLES)
def test_it_shows_no_internal_code_on_any_staff_page(demo, client, pdf_html, role):  # noqa: ANN001
    client.force_login(demo.members[role])
    every = role == Role.THERAPIST
    urls = [url for name, pattern in crawled_patterns(portal=False) for url in urls_of(name, pattern, demo, every)]
    read, problems = crawl(client, urls, pdf_html)
    assert read >= 10, f"the crawl read only {read} pages as {role}: is the demo signed in?"
    assert not problems, _report(problems)


@pytest.mark.django_db
def test_it_shows_no_internal_code_on_the_patients_portal(demo, client, pdf_html):  # noqa: ANN001
    response = client.post(f"/portal/{demo.clinic.slug}/sign-in/",
                           {"email": demo.portal_account.email, "password": demo_password()})
    assert response.status_code == 302
    urls = [url for name, pattern in crawled_patterns(portal=True) for url in urls_of(name, pattern, demo, True)]
    read, problems = crawl(client, urls, pdf_html)
    assert read >= 4, f"the crawl read only {read} portal pages"
    assert not problems, _report(problems)
