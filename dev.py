#!/usr/bin/env python3
"""The two set-up commands, runnable with nothing but Python 3.11+.

    python3 dev.py demo   virtualenv + install + migrate + demo data + serve on :8000,
                          with a background worker (gold refreshes) beside it
    python3 dev.py test   virtualenv + install + the whole test suite (args: pytest's)

Other commands: serve (gunicorn + whitenoise, production settings), lint.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ANNOTATOR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
# WeasyPrint's system libraries (annotator/agreement_report/pdf.py names the same).
PANGO_APT = (
    "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 "
    "fonts-dejavu-core"
)
# Read by annotator/settings.py unless the environment says DEBUG=0; git-ignored.
LOCAL_ENV = ROOT / ".env.local"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_environment(requirements: str) -> None:
    """Create .venv and install requirements, skipping work already done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an old python3
        sys.exit(f"Python 3.11+ is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        say(f"creating a virtualenv in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256()
    for name in ("requirements.txt", requirements):
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / f".deps-{requirements}.sha256"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    say(f"installing {requirements}")
    run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        ROOT / requirements,
    )
    stamp.write_text(digest.hexdigest())


def check_pango() -> None:
    """Say how to install Pango when it is missing: the reliability report's PDF
    (WeasyPrint) needs it; every other page and download works without it."""
    if ctypes.util.find_library("pangoft2-1.0") is None:
        say(f"Pango is missing: the reliability report's PDF answers 503. {PANGO_APT}")


def write_local_env(path: Path = LOCAL_ENV) -> None:
    """Development settings with a generated key, so the README's
    `.venv/bin/python manage.py …` commands work as printed. Written once: an
    existing file (and its key, which signs sessions) is kept."""
    if path.exists():
        return
    say(f"writing {path.name} (DEBUG=1 and a generated SECRET_KEY; git-ignored)")
    path.write_text(
        "# Local development settings, written once by `python3 dev.py demo`.\n"
        "# annotator/settings.py reads this file unless the environment says\n"
        "# DEBUG=0 (production: `dev.py serve`); the environment wins over it.\n"
        "DEBUG=1\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)


def demo(args: list[str]) -> None:
    ensure_environment("requirements.txt")
    check_pango()
    write_local_env()
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    address = args[0] if args else "127.0.0.1:8000"
    manage = [PYTHON, ROOT / "manage.py"]
    say("migrating the database")
    run(*manage, "migrate", "--no-input", "-v", "0", env=env)
    say("loading the demo")
    run(
        *manage,
        "load_demo",
        "--url",
        f"http://{address}/",
        "--machine-coder",  # trained by the worker started below
        env=env,
    )
    say("starting a background worker (manage.py db_worker) for long jobs")
    worker = subprocess.Popen(
        [str(a) for a in (*manage, "db_worker")], cwd=ROOT, env=env
    )
    say(f"serving on http://{address}/ (Ctrl-C stops both)")
    try:
        server = subprocess.run(
            [str(a) for a in (*manage, "runserver", address)], cwd=ROOT, env=env
        )
    except KeyboardInterrupt:
        server = None  # Ctrl-C reached the server and the worker too
    finally:
        stop(worker)
    if server is not None and server.returncode:
        sys.exit(server.returncode)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (a worker finishes the job in hand), then SIGKILL after 30 s."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        process.kill()
        process.wait()


def test(args: list[str]) -> None:
    ensure_environment("requirements-dev.txt")
    check_pango()  # the PDF test skips without it (not under CI=true)
    run(PYTHON, "-m", "pytest", *args)


def serve(args: list[str]) -> None:
    """Production serving: gunicorn workers, whitenoise static files, env settings."""
    ensure_environment("requirements.txt")
    env = {**os.environ, "DEBUG": "0"}
    run(PYTHON, ROOT / "manage.py", "collectstatic", "--no-input", "-v", "0", env=env)
    run(PYTHON, ROOT / "manage.py", "migrate", "--no-input", "-v", "0", env=env)
    # Workers, threads, bind and timeouts: gunicorn.conf.py (env-driven).
    run(
        BIN / "gunicorn",
        "annotator.wsgi",
        "--config",
        ROOT / "gunicorn.conf.py",
        *args,
        env=env,
    )


def lint(args: list[str]) -> None:
    ensure_environment("requirements-dev.txt")
    run(BIN / "ruff", "check", ".", *args)


COMMANDS = {"demo": demo, "test": test, "serve": serve, "lint": lint}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
