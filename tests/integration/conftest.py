"""Every AWS call the functions and state machines of an emulated stack make in this tier is
checked against the role the template gives them (bookings.offline.emulator.permissions): a call
the role does not allow fails the test that made it.

The roles are read from the template after the SAM transform (the SAM CLI's translator in
.tools, `make tools`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.paths import ROOT

from bookings import deploy_check
from bookings.offline.emulator.permissions import PermissionAudit, auditing


@pytest.fixture(scope="session")
def transformed_template() -> dict[str, object]:
    try:
        return deploy_check.Project(ROOT).transformed
    except deploy_check.CheckError as exc:
        pytest.fail(f"the permission audit needs the template after the SAM transform: {exc}")


# One audit per test module of this tier: a worker process that runs other tiers' tests after
# this tier's (offline sessions configured by environment, not by the template) leaves them
# unaudited.
@pytest.fixture(scope="module")
def permission_audit(transformed_template: dict[str, object]) -> Iterator[PermissionAudit]:
    with auditing(PermissionAudit(transformed_template)) as audit:
        yield audit
    # Calls made while the module's other fixtures were torn down.
    denied = audit.new_denials()
    assert not denied, "calls their roles do not allow:\n" + "\n".join(map(str, denied))


@pytest.fixture(autouse=True)
def calls_are_allowed(permission_audit: PermissionAudit) -> Iterator[None]:
    """The calls made since the previous test (this test's, and its fixtures') are allowed."""
    yield
    denied = permission_audit.new_denials()
    assert not denied, "calls their roles do not allow:\n" + "\n".join(map(str, denied))
