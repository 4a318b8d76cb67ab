"""The Python API as a careless or hostile host uses it: handles used after close, wrong
types, bad lengths, values that must never be echoed, threads sharing one custodian, and
authenticate callables that misbehave."""

from __future__ import annotations

import threading

import pytest

import crm_privacy as crm
from conftest import KEYS, T0, Root

# Personal data a host might pass: it must never appear in an exception message or repr.
CANARY = "canary.4f9a@example.com"
CANARY_BYTES = CANARY.encode()


def _all_text(err: BaseException) -> str:
    return f"{err} {err!r} {err.args!r}"


def test_every_handle_is_a_context_manager_and_close_is_idempotent(tmp_path):
    with crm.ManualClock(T0) as clock, crm.Authenticator() as auth, \
            crm.StaffDirectory() as staff:
        with crm.Custodian.open(tmp_path / "cm.db", **KEYS, authenticator=auth,
                                staff_directory=staff, clock=clock) as c:
            assert isinstance(c, crm.Custodian) and not c.closed
            with c.grant_lookup(crm.Purpose.NOTIFICATION, "recovery") as lookup:
                assert isinstance(lookup, crm.LookupGrant)
                assert lookup.find_by_email("nobody@example.com") == []
            assert lookup.closed
            with pytest.raises(crm.ApiMisuse) as e:
                lookup.find_by_email("nobody@example.com")
            assert e.value.code == crm.ResultCode.CRM_INVALID_HANDLE
        assert c.closed
        c.close()
        c.close()
        for call in (c.register_subject, c.sweep, c.verify_audit):
            with pytest.raises(crm.ApiMisuse) as e:
                call()
            assert e.value.code == 1005 and "closed" in str(e.value)
    for h in (clock, auth, staff):
        assert h.closed
        h.close()
    with pytest.raises(crm.ApiMisuse):
        clock.advance(1)
    with pytest.raises(crm.ApiMisuse):
        auth.insert("cred", crm.new_id(), crm.new_id(), T0, T0 + 1)
    with pytest.raises(crm.ApiMisuse):
        staff.remove(crm.new_id())


def test_configuration_handles_may_close_right_after_opening(tmp_path):
    auth = crm.Authenticator()
    clock = crm.ManualClock(T0)
    with crm.Custodian.open(str(tmp_path / "x.db"), **KEYS, authenticator=auth,
                            clock=clock) as c:
        alice = c.register_subject()
        auth.insert("alice", alice, crm.new_id(), T0, T0 + 60)
        auth.close()
        clock.close()
        assert c.grant_owner("alice").startswith("g1.")  # the custodian kept its references


def test_a_closed_configuration_handle_cannot_configure(tmp_path):
    auth = crm.Authenticator()
    auth.close()
    with pytest.raises(crm.ApiMisuse) as e:
        crm.Custodian(tmp_path / "y.db", **KEYS, authenticator=auth)
    assert e.value.code == 1005


def test_reprs_name_the_type_and_state_only(tmp_path):
    with crm.Custodian.open(tmp_path / (CANARY + ".db"), **KEYS) as c:
        assert repr(c) == "<Custodian open>"
        assert CANARY not in repr(c) and "k" * 32 not in repr(vars(c))
    assert repr(c) == "<Custodian closed>"
    assert repr(crm.ManualClock(T0)) == "<ManualClock open>"
    assert repr(crm.PolicyRefusal(3004)) == "PolicyRefusal(code=3004)"


def test_no_personal_data_in_any_error(root):
    c = root.custodian
    alice = c.register_subject()
    failing = [
        (crm.InvalidData, lambda: c.store(alice, crm.Category.PHONE, CANARY)),
        (crm.InvalidData, lambda: c.store(alice, crm.Category.EMAIL, CANARY + "@@")),
        (crm.ApiMisuse, lambda: c.store(alice, crm.Category.EMAIL, CANARY + "\udcff")),
        (crm.ApiMisuse, lambda: c.store(CANARY_BYTES, crm.Category.EMAIL, "a@example.com")),
        (crm.ApiMisuse, lambda: c.store(CANARY, crm.Category.EMAIL, "a@example.com")),
        (crm.ApiMisuse, lambda: c.store(alice, crm.Category.EMAIL, CANARY_BYTES)),
        (crm.ApiMisuse, lambda: c.store(alice, 300, CANARY)),
        (crm.ApiMisuse, lambda: c.store(alice, 99, CANARY)),
        (crm.TokenRejected, lambda: c.read(CANARY, crm.Purpose.NOTIFICATION, alice)),
        (crm.AuthenticationError, lambda: c.grant_owner(CANARY)),
        (crm.AuthenticationError, lambda: c.give_consent(CANARY, crm.Scope.COOKIES)),
        (crm.ApiMisuse, lambda: c.grant_owner(CANARY + "\ud800")),
        (crm.ApiMisuse, lambda: root.auth.insert(CANARY, alice, CANARY_BYTES, T0, T0)),
        (crm.ApiMisuse, lambda: root.auth.insert(CANARY, alice, alice, 2**70, T0)),
        (crm.ApiMisuse, lambda: root.staff.file(CANARY_BYTES[:16], CANARY + "\udcff", T0)),
        (crm.ApiMisuse, lambda: c.set_sharing(CANARY, colleagues=CANARY)),
        (crm.ApiMisuse, lambda: crm.Custodian("x.db", CANARY, b"i" * 32, b"t" * 32)),
        # Kept in clear in tokens and the audit log: refused, never echoed.
        (crm.InvalidData, lambda: c.grant(alice, crm.Purpose.NOTIFICATION, CANARY)),
        (crm.ApiMisuse, lambda: crm.Custodian("x.db", CANARY_BYTES, b"i" * 32, b"t" * 32)),
    ]
    for expected, call in failing:
        with pytest.raises(crm.CrmError) as e:
            call()
        assert isinstance(e.value, expected), (expected, e.value)
        text = _all_text(e.value)
        assert CANARY not in text and CANARY[:12] not in text, text
        for chained in (e.value.__cause__, e.value.__context__):
            assert chained is None or CANARY not in _all_text(chained), chained


@pytest.mark.parametrize("bad", [None, 7, 1.5, b"x" * 15, b"x" * 17, "x" * 16, bytearray(3)])
def test_ids_of_the_wrong_type_or_length_are_api_misuse(root, bad):
    with pytest.raises(crm.ApiMisuse) as e:
        root.custodian.restrict(bad)
    assert e.value.code == crm.ResultCode.CRM_INVALID_ARGUMENT


@pytest.mark.parametrize("bad", [None, b"t", "3", 99, True, -1, 256, crm.Scope.COOKIES + 1000])
def test_codes_of_the_wrong_type_or_range_are_api_misuse(root, bad):
    alice = root.custodian.register_subject()
    with pytest.raises(crm.ApiMisuse):
        root.custodian.grant(alice, bad, "mailer")


def test_empty_and_huge_inputs_are_refused_not_crashed(root):
    c = root.custodian
    alice = c.register_subject()
    with pytest.raises(crm.ApiMisuse):
        c.grant(alice, crm.Purpose.NOTIFICATION, "")
    with pytest.raises(crm.CrmError):
        c.store(alice, crm.Category.PERSON_NAME, "x" * (2 * 1024 * 1024))
    with pytest.raises(crm.ApiMisuse):
        crm.Custodian(root.custodian and "z.db", b"", b"i" * 32, b"t" * 32)


def test_ids_accept_any_bytes_like(root):
    c = root.custodian
    alice = c.register_subject()
    rec = c.store(bytearray(alice), crm.Category.EMAIL, "alice@example.com")
    tok = c.grant(memoryview(alice), crm.Purpose.NOTIFICATION, "mailer")
    assert c.read(tok, 1, bytearray(rec)) == "alice@example.com"  # a plain int code works too


def test_reports_are_named_tuples(root):
    c = root.custodian
    c.store(c.register_subject(), crm.Category.EMAIL, "a@example.com")
    sweep = c.sweep()
    assert isinstance(sweep, crm.SweepReport) and sweep.checked == 1 and sweep.deleted == 0
    audit = c.verify_audit()
    assert isinstance(audit, crm.AuditReport) and audit.audit_entries == audit[1] > 0


def test_threads_share_one_custodian(root):
    c = root.custodian
    subjects = [c.register_subject() for _ in range(4)]
    errors: list = []

    def work(subject: bytes) -> None:
        try:
            for i in range(15):
                rec = c.store(subject, crm.Category.EMAIL, f"user{i}@example.com")
                tok = c.grant(subject, crm.Purpose.NOTIFICATION, "mailer")
                assert c.read(tok, crm.Purpose.NOTIFICATION, rec) == f"user{i}@example.com"
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in subjects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert c.sweep().checked == 60


def test_close_while_other_threads_call_never_crashes(tmp_path):
    c = crm.Custodian(tmp_path / "race.db", **KEYS)
    alice = c.register_subject()
    outcomes: list = []
    start = threading.Barrier(5)

    def work() -> None:
        start.wait()
        for _ in range(30):
            try:
                c.store(alice, crm.Category.PERSON_NAME, "Alice")
                outcomes.append("ok")
            except crm.ApiMisuse as e:
                outcomes.append(e.code)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    start.wait()
    c.close()
    for t in threads:
        t.join()
    assert set(outcomes) <= {"ok", 1005} and outcomes.count(1005) > 0


def test_authenticate_callables_that_misbehave_reject(tmp_path):
    subject: dict = {}

    def authenticate(credential: str) -> crm.Verdict:
        if credential == "raises":
            raise RuntimeError(CANARY)
        if credential == "short-id":
            return subject["id"][:8], b"\x01" * 16, T0, T0 + 600
        if credential == "not-a-tuple":
            return 42  # type: ignore[return-value]
        if credential == "bad-time":
            return subject["id"], b"\x01" * 16, "yesterday", T0 + 600  # type: ignore
        if credential == "other-string":
            return "accepted"
        if credential == "good":
            return subject["id"], b"\x01" * 16, T0, T0 + 600
        return None

    with crm.ManualClock(T0 + 1) as clock, \
            crm.Custodian.open(tmp_path / "cb.db", **KEYS, authenticate=authenticate,
                               session_live=lambda s, ss, now: True, clock=clock) as c:
        subject["id"] = c.register_subject()
        for cred in ("raises", "short-id", "not-a-tuple", "bad-time", "other-string", "x"):
            with pytest.raises(crm.AuthenticationError) as e:
                c.grant_owner(cred)
            assert CANARY not in _all_text(e.value)
        assert c.grant_owner("good").startswith("g1.")
    with pytest.raises(crm.ApiMisuse):
        crm.Custodian(tmp_path / "nc.db", **KEYS, authenticate="not callable",  # type: ignore
                      session_live=lambda s, ss, now: True)
    # An authenticator says how its sessions end: one callable without the other is refused.
    with pytest.raises(crm.ApiMisuse):
        crm.Custodian(tmp_path / "nl.db", **KEYS, authenticate=authenticate)
    with pytest.raises(crm.ApiMisuse):
        crm.Custodian(tmp_path / "na.db", **KEYS, session_live=lambda s, ss, now: True)


def test_an_authenticate_callable_calling_its_own_custodian_is_refused(tmp_path):
    box: dict = {}

    def authenticate(credential: str) -> crm.Verdict:
        try:
            box["c"].register_subject()
        except crm.ApiMisuse as e:
            box["refused"] = e
        return None

    def attempt() -> None:
        try:
            c.grant_owner("anyone")
        except crm.AuthenticationError as e:
            box["outer"] = e

    c = crm.Custodian.open(tmp_path / "re.db", **KEYS, authenticate=authenticate,
                           session_live=lambda s, ss, now: True)
    box["c"] = c
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # not closed: close() would wait for the stuck call forever
        pytest.fail("the re-entrant call deadlocked")
    with c:
        assert isinstance(box.get("outer"), crm.AuthenticationError)
        assert box["refused"].code == crm.ResultCode.CRM_INVALID_ARGUMENT
        assert "called again" in str(box["refused"])
        assert len(c.register_subject()) == 16  # the lock was released
