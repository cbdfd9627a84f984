"""The demo's patient side: sign-ins for the patients with a history, check-ins, one warning sign on Today."""

from __future__ import annotations

from palpate.demo.portal import portal_logins
from palpate.demo.seed import demo_password, seed_demo
from palpate.portal.models import PortalAccount, WarningFlag
from palpate.reported.models import CheckIn, ExerciseLog


def test_the_demo_gives_its_patients_sign_ins_check_ins_and_one_warning_sign(db, client):
    seed_demo()
    logins = portal_logins()
    assert set(logins) == {"harbor", "summit"} and all(len(emails) >= 6 for emails in logins.values())
    assert CheckIn.objects.filter(status="answered").count() >= 12 and ExerciseLog.objects.exists()
    flag = WarningFlag.objects.get()
    assert flag.sign == "calf_pain_swelling" and flag.therapist.username == "harbor-pt" and flag.is_open
    email = logins["harbor"][0]
    response = client.post("/portal/harbor/sign-in/", {"email": email, "password": demo_password()})
    assert response.status_code == 302 and b"Hello" in client.get("/portal/").content
    from palpate.accounts.models import User

    client.force_login(User.objects.get(username="harbor-pt"))
    assert b"Calf pain or swelling" in client.get("/").content
    assert seed_demo() == {"harbor": 0, "summit": 0} and PortalAccount.objects.count() == sum(map(len, logins.values()))
