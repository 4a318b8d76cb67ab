"""Global Privacy Control over the Python binding (issue 19, part 2): the ``Sec-GPC`` value
parsed as the spec says, and the opt-out recorded in the subject's session."""

import pytest

import crm_privacy as crm


@pytest.mark.parametrize(
    "value, opt_out",
    [("1", True), (" 1\t", True), (b"1", True), (None, False), ("", False), ("0", False),
     ("1, 1", False), ("true", False), ("11", False)],
)
def test_signal_follows_the_spec(value, opt_out):
    assert crm.gpc_signal(value) is opt_out


def test_signal_rejects_other_types():
    with pytest.raises(crm.ApiMisuse):
        crm.gpc_signal(1)  # type: ignore[arg-type]


def test_opt_out_withdraws_cookie_consent_once(root):
    c = root.custodian
    alice = c.register_subject()
    cred = root.login(alice, "gpc-alice")
    c.give_consent(cred, crm.Scope.COOKIES)
    assert c.apply_gpc(cred, opt_out=False) == 0, "no signal, nothing recorded"
    recorded = c.apply_gpc(cred, opt_out=crm.gpc_signal("1"), reference="req-1")
    assert recorded >= 1
    assert c.apply_gpc(cred, opt_out=True) == 0, "idempotent"
    # The cookie consent is gone: withdrawing it again is refused as not in force.
    with pytest.raises(crm.PolicyRefusal):
        c.withdraw_consent(alice, crm.Scope.COOKIES)


def test_bad_reference_and_foreign_credential_are_typed_errors(root):
    c = root.custodian
    alice = c.register_subject()
    cred = root.login(alice, "gpc-alice-2")
    with pytest.raises(crm.ApiMisuse):
        c.apply_gpc(cred, opt_out=True, reference="203.0.113.7 Mozilla")
    with pytest.raises(crm.AuthenticationError):
        c.apply_gpc("nobody-knows-this-credential", opt_out=True)
