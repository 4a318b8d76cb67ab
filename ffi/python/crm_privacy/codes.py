"""Named codes of the C ABI: categories, purposes, consent scopes and result codes.

Every value equals a constant of the generated header ``crm_privacy.h`` (``CRM_CATEGORY_*``,
``CRM_PURPOSE_*``, ``CRM_SCOPE_*`` and the ``crm_result`` enum); ``tests/test_codes.py``
compares them, so a constant added to the header fails the tests until it is added here.
"""

from __future__ import annotations

import enum

__all__ = ["Category", "Purpose", "Scope", "ResultCode"]


class Category(enum.IntEnum):
    """Kinds of personal data the custodian stores (``CRM_CATEGORY_*``).

    Compound kinds take JSON text (see the header's comments for their fields).
    """

    PERSON_NAME = 1
    EMAIL = 2
    PHONE = 3
    COLLEAGUE_CONTACT = 4
    CUSTOMER_RECORD = 5
    IP_ADDRESS = 6
    DEVICE_INFO = 7
    GOOGLE_ACCOUNT_ID = 8
    FACEBOOK_ACCOUNT_ID = 9
    ZOOM_ACCOUNT_ID = 10
    ZOOM_ACCESS_TOKEN = 11
    DEVICE_CONTACT = 12
    COOKIE_PREFERENCE = 13


class Purpose(enum.IntEnum):
    """Purposes a grant is issued for (``CRM_PURPOSE_*``)."""

    NOTIFICATION = 1
    IDENTITY_VERIFICATION = 2
    SUPPORT_CONTACT = 3
    AUTHENTICATION = 4
    CONFERENCE_CREATION = 5
    ANALYTICS = 6
    TROUBLESHOOTING = 7
    PREFERENCES = 8
    OWNER_ACCESS = 9
    TEAM_COLLABORATION = 10
    ACCOUNT_MANAGEMENT = 11
    CUSTOMER_MANAGEMENT = 12
    CHAT_SHARING = 13
    LEGAL_COMPLIANCE = 14


class Scope(enum.IntEnum):
    """Consent scopes (``CRM_SCOPE_*``).

    ``POLICY_VERSION`` is listed for completeness: acknowledgments of a policy version go
    through :meth:`crm_privacy.Custodian.acknowledge_policy`, and passing it to
    :meth:`~crm_privacy.Custodian.give_consent` raises :class:`~crm_privacy.ApiMisuse`.
    """

    GOOGLE_LINK = 1
    FACEBOOK_LINK = 2
    ZOOM_LINK = 3
    CONTACTS_IMPORT = 4
    COOKIES = 5
    DEVICE_GOOGLE_ACCOUNT = 11
    DEVICE_CALLS = 12
    DEVICE_FILE_STORAGE = 13
    DEVICE_CAMERA = 14
    DEVICE_NETWORK = 15
    POLICY_VERSION = 100


class ResultCode(enum.IntEnum):
    """Result codes of the C ABI (the ``crm_result`` enum), in blocks of 1000.

    1xxx misuse of the API, 2xxx rejected data, 3xxx policy refusals, 4xxx grant tokens,
    5xxx storage, keys and configuration, 6xxx authentication, 9xxx internal. A code this
    version does not know still maps to its block's exception class.
    """

    CRM_OK = 0
    CRM_NULL_PARAMETER = 1001
    CRM_INVALID_UTF8 = 1002
    CRM_BUFFER_TOO_SMALL = 1003
    CRM_INVALID_ARGUMENT = 1004
    CRM_INVALID_HANDLE = 1005
    CRM_KEY_TOO_SHORT = 1006
    CRM_INVALID_DATA = 2001
    CRM_VALUE_TOO_LARGE = 2101
    CRM_PURPOSE_NOT_PERMITTED = 3001
    CRM_WRONG_SUBJECT = 3002
    CRM_GRANT_EXPIRED = 3003
    CRM_GRANT_REVOKED = 3004
    CRM_CONSENT_WITHDRAWN = 3005
    CRM_RESTRICTED = 3006
    CRM_ERASED = 3007
    CRM_NDA_MISSING = 3008
    CRM_NO_CONSENT = 3009
    CRM_SESSION_EXPIRED = 3010
    CRM_STALE_REQUEST = 3011
    CRM_PURPOSE_NEEDS_SESSION = 3012
    CRM_FOREIGN_AUTHORITY = 3101
    CRM_NOT_VISIBLE = 3102
    CRM_NOT_SHARED = 3103
    CRM_NO_LAWFUL_REQUEST = 3104
    CRM_PROOF_REQUIRED = 3105
    CRM_FOREIGN_SESSION = 3106
    CRM_COLLECTION_WITHOUT_CONSENT = 3107
    CRM_WRONG_AUDIENCE = 3108
    CRM_IMMUTABLE = 3109
    CRM_DISCLOSURE_REFUSED = 3110
    CRM_CONSENT_NOT_IN_FORCE = 3111
    CRM_SESSION_ENDED = 3112
    CRM_TOKEN_MALFORMED = 4001
    CRM_TOKEN_BAD_SIGNATURE = 4002
    CRM_TOKEN_UNKNOWN_KEY = 4003
    CRM_TOKEN_WRONG_PURPOSE = 4004
    CRM_TOKEN_EXPIRED = 4005
    CRM_TOKEN_FOREIGN_AUTHORITY = 4101
    CRM_TOKEN_UNSUPPORTED_VERSION = 4102
    CRM_STORE_ERROR = 5001
    CRM_NOT_FOUND = 5002
    CRM_CORRUPT = 5003
    CRM_SHREDDED = 5004
    CRM_CONTENDED = 5101
    CRM_INVALID_CONFIG = 5102
    CRM_TIME_OUT_OF_RANGE = 5103
    CRM_KEY_MISMATCH = 5104
    CRM_CREDENTIAL_REJECTED = 6001
    CRM_PANIC = 9001
    CRM_INTERNAL = 9002
