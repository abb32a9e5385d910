from click.testing import CliRunner
from sqlalchemy import select

from helpdesk.accounts import services
from helpdesk.accounts.models import AuditEntry, Role
from helpdesk.cli import main
from helpdesk.db import session_scope


def run(settings, args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin, obj=settings)


def test_user_create_reads_password_from_stdin(settings):
    result = run(settings, ["user", "create", "Boss@Helpdesk.test", "--role", "admin", "--password-stdin"], "a long enough password\n")
    assert result.exit_code == 0, result.output
    assert "with role admin" in result.output
    with session_scope(settings) as session:
        user = services.find_user(session, "boss@helpdesk.test")
        assert user.role == Role.ADMIN
        assert services.authenticate(session, settings, "boss@helpdesk.test", "a long enough password").ok
        assert session.scalar(select(AuditEntry).where(AuditEntry.object_id == str(user.id))) is not None


def test_user_create_without_password_source_fails(settings):
    result = run(settings, ["user", "create", "boss@helpdesk.test"])
    assert result.exit_code == 2
    assert "--password-stdin" in result.output


def test_user_create_rejects_short_password(settings):
    result = run(settings, ["user", "create", "boss@helpdesk.test", "--password-stdin"], "short\n")
    assert result.exit_code == 1
    assert "at least 12" in result.output


def test_user_create_rejects_duplicate(settings):
    first = run(settings, ["user", "create", "boss@helpdesk.test", "--password-stdin"], "a long enough password\n")
    second = run(settings, ["user", "create", "BOSS@helpdesk.test", "--password-stdin"], "a long enough password\n")
    assert first.exit_code == 0
    assert second.exit_code == 1
    assert "already exists" in second.output


def test_reset_password_replaces_password(settings):
    run(settings, ["user", "create", "boss@helpdesk.test", "--password-stdin"], "a long enough password\n")
    result = run(settings, ["user", "reset-password", "boss@helpdesk.test", "--password-stdin"], "the new long password\n")
    assert result.exit_code == 0, result.output
    with session_scope(settings) as session:
        assert services.authenticate(session, settings, "boss@helpdesk.test", "the new long password").ok
        assert not services.authenticate(session, settings, "boss@helpdesk.test", "a long enough password").ok


def test_reset_password_for_unknown_user_fails(settings):
    result = run(settings, ["user", "reset-password", "ghost@helpdesk.test", "--password-stdin"], "the new long password\n")
    assert result.exit_code == 1
    assert "No account for ghost@helpdesk.test" in result.output
