"""The ``palpate`` console script.

Clinical commands (``plan``, ``score``, ``change``, ``bill``) run on the pure core only: JSON in on
standard input (or ``--input FILE``), JSON out on standard output, exit 2 with a JSON error on
standard error for bad input (see shared/contract/README.md). The web commands (``serve``,
``prepare``, ``worker``, ``backup``, ``check``, ``demo``, ``manage``, ``audit``) start Django;
``restore`` does only once the data is in place (it must find the data directory empty first).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from palpate.core.errors import InputError

Handler = Callable[[Any], dict[str, Any]]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


def _handler(command: str) -> Handler:
    # Imported lazily so that `palpate bill` does not pay for loading the clinical rules.
    if command == "plan":
        from palpate.core.planning import plan_request

        return plan_request
    if command == "score":
        from palpate.core.measures import score_request

        return score_request
    if command == "change":
        from palpate.core.measures import change_request

        return change_request
    if command == "bill":
        from palpate.core.billing import bill_request

        return bill_request
    raise ValueError(command)


CLINICAL_COMMANDS = {
    "plan": "screen a patient and plan today's soft-tissue session",
    "score": "score an outcome questionnaire",
    "change": "judge whether a change in score is clinically important",
    "bill": "count timed-code units for one date of service",
}


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(", ", ": "))


def _answer(handler: Handler, text: str) -> dict[str, Any]:
    """One request text to one response document; raises InputError for bad input."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("malformed_json", f"input is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    if not isinstance(payload, dict):
        raise InputError("wrong_type", "the request must be a JSON object")
    return handler(payload)


def run_clinical(command: str, args: argparse.Namespace) -> int:
    handler = _handler(command)
    if args.input:
        try:
            with open(args.input, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            return _fail(InputError("unreadable_input", f"cannot read {args.input}: {exc.strerror}"))
    else:
        text = sys.stdin.read()

    if not args.jsonl:
        try:
            response = _answer(handler, text)
        except InputError as exc:
            return _fail(exc)
        sys.stdout.write(_dump(response) + "\n")
        return EXIT_OK

    status = EXIT_OK
    out = []
    # One response per input line, always: a blank line is answered with an error rather than
    # skipped, so output line N still answers input line N.
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            if not line.strip():
                raise InputError("empty_line", "this line is empty; put one JSON request on each line")
            out.append(_dump(_answer(handler, line)))
        except InputError as exc:
            located = InputError(exc.code, exc.message, f"line {number}" + (f": {exc.path}" if exc.path else ""))
            out.append(_dump(located.as_json()))
            status = EXIT_BAD_INPUT
    sys.stdout.write("".join(line + "\n" for line in out))
    return status


def _fail(exc: InputError) -> int:
    sys.stderr.write(_dump(exc.as_json()) + "\n")
    return EXIT_BAD_INPUT


def _django(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palpate.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["palpate", *argv])
    return EXIT_OK


def _admin_error(message: str) -> int:
    sys.stderr.write(f"palpate: {message}\n")
    return EXIT_BAD_INPUT


def run_backup(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palpate.web.settings")
    import django

    django.setup()
    from pathlib import Path

    from palpate.ops.backup import BackupError, RestoreRefused, backup_now, human_size

    try:
        result = backup_now(Path(args.dest) if args.dest else None, passphrase_file=args.passphrase_file,
                            key_file=args.key_file)
    except RestoreRefused as exc:  # a bad passphrase or key file argument
        return _admin_error(str(exc))
    except BackupError as exc:
        sys.stderr.write(f"palpate: backup failed: {exc}\n")
        return EXIT_INTERNAL
    rows = sum(result.row_counts.values())
    print(f"Backup written: {result.path} ({human_size(result.size)}, {result.database}, {rows} rows, "
          f"{'encrypted' if result.encrypted else 'NOT encrypted'}, {result.seconds:.1f} s)")
    print(f"sha256 {result.sha256}")
    return EXIT_OK


def run_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from palpate.ops.backup import RestoreFailed, RestoreRefused, read_secret_file, restore

    data_dir = Path(args.data_dir or os.environ.get("PALPATE_DATA_DIR") or Path.cwd() / "var").resolve()
    try:
        passphrase = read_secret_file(args.passphrase_file, "passphrase file")
        key_material = read_secret_file(args.key_file, "key file")
        return restore(Path(args.src), data_dir=data_dir, database_url=os.environ.get("DATABASE_URL") or None,
                       passphrase=passphrase, key_material=key_material)
    except RestoreRefused as exc:
        return _admin_error(f"restore refused: {exc}")
    except RestoreFailed as exc:
        sys.stderr.write(f"palpate: restore failed: {exc}\n")
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="palpate", description="Palpate: soft-tissue therapy clinic software.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in CLINICAL_COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--input", metavar="FILE", help="read the request from FILE instead of standard input")
        p.add_argument("--jsonl", action="store_true", help="one JSON request per line, one response per line")
    serve = sub.add_parser("serve", help="migrate, seed demo data on first start, and serve the web app")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("PALPATE_WORKERS", "2")))
    serve.add_argument("--without-worker", action="store_true",
                       help="only the web server (when the worker runs as its own service)")
    sub.add_parser("prepare", help="migrate, collect static files and seed demo data on first start (serve runs it)")
    worker = sub.add_parser("worker", help="run the background worker (scheduled backups, audit anchoring, tasks)")
    worker.add_argument("--threads", type=int, default=None, help="tasks run at once (default PALPATE_WORKER_THREADS, 2)")
    backup = sub.add_parser("backup", help="write a consistent backup archive while Palpate runs")
    backup.add_argument("dest", nargs="?", metavar="DEST",
                        help="directory for the archive (default PALPATE_BACKUP_DIR, else $PALPATE_DATA_DIR/backups)")
    restore = sub.add_parser("restore", help="restore a backup archive into an EMPTY data directory, then verify it")
    restore.add_argument("src", metavar="SRC", help="the archive (palpate-backup-*.tar.gz or .tar.gz.enc)")
    restore.add_argument("--data-dir", metavar="DIR", help="where to restore (default PALPATE_DATA_DIR, else ./var)")
    for p in (backup, restore):
        secret = p.add_mutually_exclusive_group()
        secret.add_argument("--passphrase-file", metavar="FILE", help="encrypt/decrypt with the passphrase in FILE")
        secret.add_argument("--key-file", metavar="FILE", help="encrypt/decrypt with the key in FILE (32 bytes or more)")
    check = sub.add_parser("check", help="configuration checks; --deploy adds Django's and Palpate's deployment checks")
    check.add_argument("--deploy", action="store_true", help="checks for a production server; exits 1 on any problem")
    sub.add_parser("demo", help="load the demo clinics, users and patients")
    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="check the chains against the audit key and the last anchor")
    verify.add_argument("--full", action="store_true", help="re-read every chain from its first event")
    verify.add_argument("--checkpoint", metavar="FILE", help="also check a signed checkpoint exported earlier")
    audit_sub.add_parser("anchor", help="fold staged reads, verify what is new, anchor every chain head")
    checkpoint = audit_sub.add_parser("checkpoint", help="print a signed checkpoint of the chain heads")
    checkpoint.add_argument("--clinic", metavar="SLUG", help="only this clinic")
    checkpoint.add_argument("--out", metavar="FILE", help="write it to FILE (mode 0600)")
    token = sub.add_parser("token", help="API tokens for other systems: create, list, revoke")
    token.add_argument("rest", nargs=argparse.REMAINDER, help="create --user NAME --scope read|write [--days N] | "
                                                             "list | revoke PREFIX")
    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in CLINICAL_COMMANDS:
        return run_clinical(args.command, args)
    if args.command == "serve":
        from palpate.web.serve import serve

        return serve(host=args.host, port=args.port, workers=args.workers, with_worker=not args.without_worker)
    if args.command == "worker":
        from palpate.ops.worker import run_worker

        return run_worker(args.threads)
    if args.command == "backup":
        return run_backup(args)
    if args.command == "restore":
        return run_restore(args)
    if args.command == "check":
        return _django(["check", *(["--deploy", "--fail-level", "WARNING"] if args.deploy else [])])
    if args.command == "prepare":
        from palpate.web.serve import prepare

        return prepare()
    if args.command == "demo":
        return _django(["demo"])
    if args.command == "token":
        return _django(["token", *args.rest])
    if args.command == "audit":
        if args.audit_command == "verify":
            return _django(["audit_verify", *(["--full"] if args.full else []),
                            *(["--checkpoint", args.checkpoint] if args.checkpoint else [])])
        if args.audit_command == "anchor":
            return _django(["audit_anchor"])
        return _django(["audit_checkpoint", *(["--clinic", args.clinic] if args.clinic else []),
                        *(["--out", args.out] if args.out else [])])
    return _django(args.rest)


if __name__ == "__main__":
    sys.exit(main())
