"""Fixtures: a custodian built the way a composition root builds one."""

import pytest

import crm_privacy as crm

# Test-only keys: a constant like b"k" * 32 is refused as low-entropy (issue 16).
KEYS = dict(kek=b"k3Qz9!Lm#Vp2Xr7Tb0Yw5Nc8Hd1Jf4Gs", index_key=b"i8Wq2@Ne$Ru6Zt1Ya4Kc9Mf0Lh3Pj7Ds",
            token_key=b"t5Gh8#Kp1Zq4Wm7!Rv0Xb3Nd6Lc9Fs2J")
T0 = 1_800_000_000


class Root:
    """The composition root of a test: clock, authenticator, staff directory, custodian."""

    def __init__(self, path, token_key=b"t5Gh8#Kp1Zq4Wm7!Rv0Xb3Nd6Lc9Fs2J"):
        self.clock = crm.ManualClock(T0)
        self.auth = crm.Authenticator()
        self.staff = crm.StaffDirectory()
        self.custodian = crm.Custodian(path, KEYS["kek"], KEYS["index_key"], token_key,
                                       authenticator=self.auth, staff_directory=self.staff,
                                       clock=self.clock)

    def login(self, subject: bytes, credential: str, seconds: int = 3600) -> str:
        """What the host's login does: registers a session for ``subject``."""
        self.auth.insert(credential, subject, crm.new_id(), T0, T0 + seconds)
        return credential

    def close(self):
        self.custodian.close()
        for h in (self.auth, self.staff, self.clock):
            h.close()


@pytest.fixture
def root(tmp_path):
    r = Root(str(tmp_path / "py.db"))
    yield r
    r.close()
