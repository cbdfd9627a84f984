"""``palpate check --deploy``: Django's deployment checks plus Palpate's own; non-zero on any problem."""

from __future__ import annotations

import os
import shutil
import stat

from tests.ops.installs import install


def test_a_fresh_development_install_fails_the_deploy_check_and_names_each_problem(tmp_path):
    with install(tmp_path, demo=False) as inst:
        done = inst.palpate("check", "--deploy")
        assert done.returncode == 1
        report = done.stderr + done.stdout
        for problem in ("palpate.W001", "palpate.W008", "security.W008"):  # no HTTPS, no backup, no SSL redirect
            assert problem in report, report
        # a plain check (what `palpate check` without --deploy runs) passes
        assert inst.palpate("check").returncode == 0


def test_a_production_like_install_passes_and_a_readable_key_file_fails(tmp_path):
    env = {"PALPATE_HTTPS": "1", "ALLOWED_HOSTS": "palpate.example.org", "PALPATE_BACKUP_DIR": str(tmp_path / "backups"),
           "CSRF_TRUSTED_ORIGINS": "https://palpate.example.org", "PALPATE_BASE_URL": "https://palpate.example.org",
           "PALPATE_CLIENT_IP_HEADER": "X-Forwarded-For"}
    with install(tmp_path, demo=True, extra_env=env) as inst:
        inst.palpate("backup", check=True)
        inst.palpate("audit", "anchor", check=True)
        done = inst.palpate("check", "--deploy")
        assert done.returncode == 0, done.stdout + done.stderr
        os.chmod(inst.data_dir, 0o755)
        os.chmod(inst.data_dir / "audit_key", 0o644)
        loose = inst.palpate("check", "--deploy")
        assert loose.returncode == 1 and "palpate.W005" in loose.stderr + loose.stdout
        assert "audit_key is readable by other users" in loose.stderr
        # Every start closes the data directory again; a file Palpate did not just create is reported instead.
        assert stat.S_IMODE(inst.data_dir.stat().st_mode) == 0o700
        os.chmod(inst.data_dir / "audit_key", 0o600)
        os.rename(inst.data_dir / "audit_anchor.jsonl", tmp_path / "moved-anchor")
        assert "palpate.W013" in inst.palpate("check", "--deploy").stderr
        shutil.move(tmp_path / "moved-anchor", inst.data_dir / "audit_anchor.jsonl")
