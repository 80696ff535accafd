"""``csp-monitor check`` against real parts: a loopback mail server with STARTTLS and a login, SQLite files,
and the real command in a child process. Nothing may be sent, recorded or created by a check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from csp_monitor import CheckStep, SetupCheck, check_setup
from tests.daemon_fixtures import add_month, edit_config, write_partnership
from tests.mail_fixtures import Handler, LoopbackSmtp, free_port, make_certificate
from tests.security.bounded_cli import BoundedRun, run_cli

PASSWORD = "correct-horse-battery"
STEPS = ["configuration", "rules", "figures", "state store", "messages", "mail server", "schedules"]


def _partnership(folder: Path, port: int, cert: Path | None = None, *, password_env: str = "TEST_CHECK_PASSWORD",
                 schedules: bool = True) -> Path:
    """Testshire with April 2020's figures, mail through the loopback server (STARTTLS and a login when
    ``cert`` is given)."""
    config = write_partnership(folder, smtp_port=port, schedules=(
        "timezone: Europe/London\n"
        "schedules:\n"
        "  - {id: monthly-summary, cron: \"0 7 10 * *\", run: summary}\n"
        "  - {id: weekly-exceptions, cron: \"30 8 * * mon\", run: alerts}\n") if schedules else "")
    if cert is not None:
        edit_config(config, "security: none", f"security: starttls, ca_file: {cert}, username: csp, "
                                              f"password_env: {password_env}")
    add_month(folder, "2020-04")
    return config


def _check(config: Path, *extra: str, env: dict[str, str] | None = None) -> BoundedRun:
    return run_cli("check", "--config", config, "--now", "2020-05-04T09:00", *extra, cwd=config.parent, env=env)


def _lines(run: BoundedRun) -> dict[str, str]:
    """Each step's first line: name -> 'ok ...' or 'FAILED ...'."""
    found = {}
    for line in run.stdout.splitlines()[1:-1]:
        if line.startswith("  ") and line.split()[0] in ("ok", "FAILED"):
            status, rest = line.split(maxsplit=1)
            name = next(step for step in STEPS if rest.startswith(step))
            found[name] = f"{status} {rest[len(name):].strip()}"
    return found


def test_a_working_setup_passes_every_check_and_nothing_is_sent_or_created(tmp_path: Path) -> None:
    """STARTTLS, a login and the sender are tried on a real server: every step passes (exit 0), the server
    saw one login and no message, and neither the state store nor the outbox was created."""
    certificate = make_certificate(tmp_path)
    with LoopbackSmtp(starttls=certificate, users={"csp": PASSWORD}) as server:
        config = _partnership(tmp_path / "monitor", server.port, certificate.cert)
        run = _check(config, env={"TEST_CHECK_PASSWORD": PASSWORD})
    assert run.exit_code == 0, run.output
    steps = _lines(run)
    assert list(steps) == STEPS and all(line.startswith("ok ") for line in steps.values()), run.output
    assert "STARTTLS (TLSv1." in steps["mail server"] and "logged in as csp" in steps["mail server"]
    assert "the sender csp-monitor@example.org accepted; nothing sent" in steps["mail server"]
    assert "a run now would send" in steps["messages"] and "1 summary" in steps["messages"]
    assert "next at 2020-05-10 07:00:00 BST" in steps["schedules"]
    assert "the first run creates it" in steps["state store"]
    assert run.stdout.rstrip().endswith("All 7 checks passed.")
    assert server.received == [] and server.logins == ["csp"]
    assert not (tmp_path / "monitor" / "state.db").exists()
    assert PASSWORD not in run.output


def test_a_wrong_password_fails_the_mail_server_step_alone(tmp_path: Path) -> None:
    """A wrong password is found now, not at the first scheduled run: the mail server step fails with the
    server's words and what to check (exit 1), the other steps still pass, and nothing is sent."""
    certificate = make_certificate(tmp_path)
    with LoopbackSmtp(starttls=certificate, users={"csp": PASSWORD}) as server:
        config = _partnership(tmp_path / "monitor", server.port, certificate.cert)
        run = _check(config, env={"TEST_CHECK_PASSWORD": "wrong-password-123"})
    assert run.exit_code == 1 and "Traceback" not in run.output, run.output
    steps = _lines(run)
    assert steps["mail server"].startswith("FAILED 127.0.0.1 refused the login for csp: 535")
    assert [name for name, line in steps.items() if not line.startswith("ok ")] == ["mail server"]
    assert "1 of 7 checks failed: mail server." in run.stdout
    assert server.received == [] and "wrong-password-123" not in run.output


class _RefusingSender(Handler):
    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        return "550 5.7.1 this machine may not send as that address"


def test_a_refused_sender_and_a_server_that_is_down_fail_the_mail_server_step(tmp_path: Path) -> None:
    """The sender offered and refused (550 5.7.1) is named as delivery.from to check; a port with no server
    says it cannot connect. Exit 1 each time, nothing sent."""
    with LoopbackSmtp(handler=_RefusingSender()) as server:
        config = _partnership(tmp_path / "refused", server.port)
        refused = _check(config)
    assert refused.exit_code == 1, refused.output
    assert _lines(refused)["mail server"].startswith(
        "FAILED 127.0.0.1 refused the sender csp-monitor@example.org: 550 5.7.1 this machine may not send as "
        "that address: check delivery.from")
    assert server.received == []
    down = _check(_partnership(tmp_path / "down", free_port()))
    assert down.exit_code == 1 and "Traceback" not in down.output, down.output
    assert _lines(down)["mail server"].endswith("refused the connection (is the mail server running?)")
    assert _check(_partnership(tmp_path / "down", free_port()), "--no-smtp").exit_code == 0


def test_every_broken_part_is_reported_in_one_run_with_its_place(tmp_path: Path) -> None:
    """Rules with a mistake, a figures file with a bad month and a damaged store are each reported, located,
    in the same run; a damaged store makes the exit code 3 and is left exactly as it was."""
    folder = tmp_path / "monitor"
    config = _partnership(folder, free_port())
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("better: higher", "better: sideways", 1),
                     encoding="utf-8")
    (folder / "figures" / "2020-05.csv").write_text("area,measure,period,value\ntestshire,burglary,May 2020,4\n",
                                                    encoding="utf-8")
    (folder / "state.db").write_bytes(b"not a database, a copy that went wrong" * 100)
    before = (folder / "state.db").read_bytes()
    run = _check(config, "--no-smtp")
    assert run.exit_code == 3 and "Traceback" not in run.output, run.output
    steps = _lines(run)
    assert steps["rules"] == (f"FAILED {folder / 'rules.yaml'}:11:17: 'sideways' is not allowed for 'better': use "
                              "one of 'lower', 'higher'")
    assert steps["figures"].startswith("FAILED ") and "2020-05.csv:2:" in steps["figures"]
    assert steps["state store"].startswith("FAILED ") and "messages" not in steps
    assert steps["schedules"].startswith("ok monthly-summary (summary) next at")  # the rules' problem said once
    assert (folder / "state.db").read_bytes() == before


def test_the_library_call_and_the_json_agree(tmp_path: Path) -> None:
    """check_setup() gives the steps the command prints; --format json reads back into SetupCheck."""
    with LoopbackSmtp() as server:
        config = _partnership(tmp_path / "monitor", server.port, schedules=False)
        found = check_setup(config, smtp=True)
        run = _check(config, "--format", "json")
    assert isinstance(found, SetupCheck) and found.ok and found.exit_code == 0
    assert [step.name for step in found.steps] == STEPS
    assert found.steps[-1] == CheckStep("schedules", True, found.steps[-1].detail)
    assert "none: the daemon needs schedules" in found.steps[-1].detail
    assert run.exit_code == 0, run.output
    read_back = SetupCheck.model_validate_json(run.stdout)
    assert [step.name for step in read_back.steps] == STEPS and read_back.ok
    assert json.loads(run.stdout)["steps"][5]["detail"].endswith("nothing sent")
    assert server.received == []


def test_a_configuration_that_cannot_be_read_stops_at_the_first_step(tmp_path: Path) -> None:
    """A configuration with a misspelt key is the one step shown, located, exit 1."""
    config = tmp_path / "csp-monitor.yaml"
    config.write_text("rules: [rules.yaml]\nfigures: [f.csv]\nstate: s.db\nsumary: {to: [board]}\n", encoding="utf-8")
    run = _check(config)
    assert run.exit_code == 1 and "Traceback" not in run.output, run.output
    assert list(_lines(run)) == ["configuration"]
    assert "csp-monitor.yaml:4:1: unknown key 'sumary'" in run.stdout


@pytest.mark.parametrize("bad", [None, 3])
def test_check_setup_refuses_a_path_that_is_not_text(bad: Any) -> None:
    """A library caller passing something other than a path gets an ArgumentError, not a TypeError."""
    from csp_monitor import ArgumentError

    with pytest.raises(ArgumentError):
        check_setup(bad)
