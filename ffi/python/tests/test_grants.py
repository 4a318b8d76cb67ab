"""pytest tests of the Python binding: happy path and every refusal."""

import pytest

import crm_privacy as crm

SECRET = b"0123456789abcdef0123456789abcdef"


def test_policy_table():
    assert crm.permits(crm.Category.EMAIL, crm.Purpose.NOTIFICATION)
    assert not crm.permits(crm.Category.PHONE, crm.Purpose.ANALYTICS)
    assert crm.permits(crm.Category.DEVICE_CONTACT, crm.Purpose.OWNER_ACCESS)
    assert not crm.permits(crm.Category.DEVICE_CONTACT, crm.Purpose.TEAM_COLLABORATION)


def test_issue_check_revoke():
    alice, bob = crm.new_subject(), crm.new_subject()
    assert alice != bob and len(alice) == 16
    with crm.Issuer(SECRET) as issuer:
        token = issuer.issue(alice, crm.Purpose.NOTIFICATION, "mailer")
        assert token.startswith("g1.")
        issuer.check(token, crm.Purpose.NOTIFICATION, crm.Category.EMAIL, alice)
        with pytest.raises(crm.PolicyRefusal) as e:
            issuer.check(token, crm.Purpose.NOTIFICATION, crm.Category.EMAIL, bob)
        assert e.value.code == 3002
        with pytest.raises(crm.PolicyRefusal) as e:
            issuer.check(token, crm.Purpose.NOTIFICATION, crm.Category.PHONE, alice)
        assert e.value.code == 3001
        with pytest.raises(crm.TokenRejected) as e:
            issuer.check(token, crm.Purpose.IDENTITY_VERIFICATION, crm.Category.PHONE, alice)
        assert e.value.code == 4004
        issuer.revoke(token, crm.Purpose.NOTIFICATION)
        with pytest.raises(crm.PolicyRefusal) as e:
            issuer.check(token, crm.Purpose.NOTIFICATION, crm.Category.EMAIL, alice)
        assert e.value.code == 3004


def test_forged_and_malformed_tokens():
    alice = crm.new_subject()
    with crm.Issuer(SECRET) as a, crm.Issuer(b"f" * 32) as b:
        token = a.issue(alice, crm.Purpose.ANALYTICS, "stats")
        with pytest.raises(crm.TokenRejected) as e:
            b.check(token, crm.Purpose.ANALYTICS, crm.Category.IP_ADDRESS, alice)
        assert e.value.code == 4002
        with pytest.raises(crm.TokenRejected):
            a.check("g1.not-a-token", crm.Purpose.ANALYTICS, crm.Category.IP_ADDRESS, alice)
        with pytest.raises(crm.ApiMisuse):
            a.check("", crm.Purpose.ANALYTICS, crm.Category.IP_ADDRESS, alice)


def test_session_only_purposes_and_bad_keys():
    alice = crm.new_subject()
    with pytest.raises(crm.ApiMisuse):
        crm.Issuer(b"short")
    with crm.Issuer(SECRET) as issuer:
        with pytest.raises(crm.PolicyRefusal) as e:
            issuer.issue(alice, crm.Purpose.OWNER_ACCESS, "support")
        assert e.value.code == 3012


def test_closed_issuer_is_refused():
    issuer = crm.Issuer(SECRET)
    handle = issuer._handle
    issuer.close()
    issuer.close()  # idempotent
    issuer._handle = handle  # a freed handle: detected, never dereferenced
    with pytest.raises(crm.ApiMisuse) as e:
        issuer.check("g1.x", crm.Purpose.NOTIFICATION, crm.Category.EMAIL, crm.new_subject())
    assert e.value.code == 1005
    issuer._handle = None


def test_messages_carry_no_values():
    msg = crm.result_message(3004)
    assert msg == "the grant has been revoked"
