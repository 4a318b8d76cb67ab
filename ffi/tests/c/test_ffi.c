/* C tests of the crm-privacy ABI: the happy path and every refusal, including bad input at
 * the boundary (NULL for pointers, invalid UTF-8, zero and huge lengths, freed, foreign and
 * wrong-typed handles, short buffers), forged tokens, tokens of another authority, expired
 * sessions, withdrawn consent, custodian revocation, restriction, staff NDAs and lawful
 * requests. Prints its own pass/fail counts; exits 1 on failure. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crm_privacy.h"

static int passed = 0, failed = 0;
#define CHECK(cond) do { if (cond) { passed++; } else { failed++; \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define EXPECT(call, code) do { crm_result r_ = (call); if (r_ == (code)) { passed++; } else { \
    failed++; fprintf(stderr, "FAIL %s:%d: %s -> %u, expected %s\n", __FILE__, __LINE__, #call, \
    (unsigned)r_, #code); } } while (0)
/* A string argument: pointer and length. */
#define S(x) (const uint8_t *)(x), strlen(x)
#define T(tok) (const uint8_t *)(tok).b, (tok).n

typedef struct { char b[1024]; size_t n; } token;

static const int64_t T0 = 1800000000; /* 2027-01-15 */
/* Test-only keys: a constant like "kkkk..." is refused as low-entropy (issue 16). */
static const uint8_t KEK[32] = "k3Qz9!Lm#Vp2Xr7Tb0Yw5Nc8Hd1Jf4Gs";
static const uint8_t IDX[32] = "i8Wq2@Ne$Ru6Zt1Ya4Kc9Mf0Lh3Pj7Ds";
static const uint8_t TOK[32] = "t5Gh8#Kp1Zq4Wm7!Rv0Xb3Nd6Lc9Fs2J";
static const uint8_t TOK_B[32] = "T2Bn7$Yx4Qe9Vk1@Ws6Hm3Jd8Pr0Lz5C";
static const uint8_t KEK_WRONG[32] = "w9Lk2#Qa7Zp4!Xm1Vb8Nc5Rd0Te3Jy6H";

static void test_messages(void) {
  uint8_t buf[128]; size_t n = 0;
  EXPECT(crm_result_message(CRM_GRANT_REVOKED, buf, sizeof buf, &n), CRM_OK);
  CHECK(n > 0 && memcmp(buf, "the grant has been revoked", n) == 0);
  size_t need = 0;
  EXPECT(crm_result_message(CRM_GRANT_REVOKED, buf, 3, &need), CRM_BUFFER_TOO_SMALL);
  CHECK(need == n);
  EXPECT(crm_result_message(CRM_OK, NULL, 10, &n), CRM_NULL_PARAMETER);
  EXPECT(crm_result_message(CRM_OK, buf, sizeof buf, NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_result_message(424242, buf, sizeof buf, &n), CRM_OK); /* unknown: generic text */
  EXPECT(crm_result_message(CRM_INTERNAL, buf, sizeof buf, &n), CRM_OK);
}

static void test_policy(void) {
  CHECK(crm_policy_permits(CRM_CATEGORY_EMAIL, CRM_PURPOSE_NOTIFICATION));
  CHECK(!crm_policy_permits(CRM_CATEGORY_PHONE, CRM_PURPOSE_ANALYTICS));
  CHECK(crm_policy_permits(CRM_CATEGORY_DEVICE_CONTACT, CRM_PURPOSE_OWNER_ACCESS));
  CHECK(!crm_policy_permits(CRM_CATEGORY_DEVICE_CONTACT, CRM_PURPOSE_NOTIFICATION));
  CHECK(!crm_policy_permits(0, 1) && !crm_policy_permits(200, 200));
  uint8_t a[CRM_ID_LEN], b[CRM_ID_LEN];
  EXPECT(crm_subject_new(a, sizeof a), CRM_OK);
  EXPECT(crm_subject_new(b, sizeof b), CRM_OK);
  EXPECT(crm_subject_new(b, 4), CRM_BUFFER_TOO_SMALL);
  CHECK(memcmp(a, b, 16) != 0);
}

/* The host's authenticate callback: accepts "cb-cred" for the subject in userdata. */
typedef struct { uint8_t subject[16]; int calls; int logged_out; int live_calls; } cb_ctx;
static uint32_t authenticate_cb(void *userdata, const uint8_t *cred, size_t len, crm_session_claims *out) {
  cb_ctx *ctx = userdata;
  ctx->calls++;
  if (len == 7 && memcmp(cred, "cb-cred", 7) == 0) {
    memcpy(out->subject, ctx->subject, 16);
    memset(out->session, 0x5a, 16);
    out->authenticated_at_unix = T0;
    out->expires_at_unix = T0 + 600;
    return CRM_AUTH_ACCEPTED;
  }
  if (len == 11 && memcmp(cred, "cb-expired!", 11) == 0) return CRM_AUTH_EXPIRED;
  return CRM_AUTH_REJECTED;
}

/* The host's session-live callback: session 0x5a.. of the subject in userdata, until logout. */
static uint32_t session_live_cb(void *userdata, const uint8_t *subject, const uint8_t *session, int64_t now) {
  cb_ctx *ctx = userdata;
  uint8_t want[16]; memset(want, 0x5a, 16);
  ctx->live_calls++;
  if (ctx->logged_out || now >= T0 + 600) return CRM_SESSION_HAS_ENDED;
  if (memcmp(subject, ctx->subject, 16) != 0 || memcmp(session, want, 16) != 0) return CRM_SESSION_HAS_ENDED;
  return CRM_SESSION_IS_LIVE;
}

static crm_result grant(crm_custodian *c, const uint8_t *subject, uint8_t purpose, const char *comp, token *t) {
  return crm_custodian_grant(c, subject, purpose, S(comp), (uint8_t *)t->b, sizeof t->b, &t->n);
}
static crm_result rd(crm_custodian *c, const token *t, uint8_t purpose, const uint8_t *rec, char *out, size_t cap, size_t *n) {
  return crm_field_read(c, T(*t), purpose, rec, (uint8_t *)out, cap, n);
}

/* Binary grant tokens (issue 18): the text token's signed bytes without base64. */
static void test_token_bytes(crm_custodian *c, const token *t, const uint8_t *subject,
                             const uint8_t *rec, const char *email) {
  uint8_t b[1024], bad[1024]; size_t bn = 0, need = 0; char out[1024]; size_t olen = 0;
  token back;
  EXPECT(crm_grant_token_to_bytes(c, T(*t), CRM_PURPOSE_NOTIFICATION, b, 8, &need), CRM_BUFFER_TOO_SMALL);
  EXPECT(crm_grant_token_to_bytes(c, T(*t), CRM_PURPOSE_NOTIFICATION, b, sizeof b, &bn), CRM_OK);
  CHECK(bn == need && bn > 32 && bn < t->n);
  EXPECT(crm_grant_check_bytes(c, b, bn, CRM_PURPOSE_NOTIFICATION), CRM_OK);
  EXPECT(crm_grant_check_bytes(c, b, bn, CRM_PURPOSE_ANALYTICS), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_grant_check_bytes(NULL, b, bn, CRM_PURPOSE_NOTIFICATION), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_check_bytes(c, NULL, bn, CRM_PURPOSE_NOTIFICATION), CRM_NULL_PARAMETER);
  EXPECT(crm_field_read_bytes(c, b, bn, CRM_PURPOSE_NOTIFICATION, rec, (uint8_t *)out, sizeof out, &olen), CRM_OK);
  CHECK(olen == strlen(email) && memcmp(out, email, olen) == 0);
  EXPECT(crm_grant_token_from_bytes(c, b, bn, CRM_PURPOSE_NOTIFICATION, (uint8_t *)back.b, sizeof back.b, &back.n), CRM_OK);
  CHECK(back.n == t->n && memcmp(back.b, t->b, t->n) == 0);
  /* Tampered, truncated and extended tokens get a code, never a read. */
  memcpy(bad, b, bn); bad[bn - 1] ^= 1;
  EXPECT(crm_grant_check_bytes(c, bad, bn, CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(crm_field_read_bytes(c, bad, bn, CRM_PURPOSE_NOTIFICATION, rec, (uint8_t *)out, sizeof out, &olen), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(crm_grant_check_bytes(c, b, 10, CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_MALFORMED);
  memcpy(bad, b, bn); bad[bn] = 0;
  EXPECT(crm_grant_check_bytes(c, bad, bn + 1, CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(crm_grant_check_bytes(c, (const uint8_t *)t->b, t->n, CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_UNSUPPORTED_VERSION);
  /* Revoking by the binary form stops both forms. */
  token r; uint8_t rb[1024]; size_t rbn = 0;
  EXPECT(grant(c, subject, CRM_PURPOSE_NOTIFICATION, "mailer", &r), CRM_OK);
  EXPECT(crm_grant_token_to_bytes(c, T(r), CRM_PURPOSE_NOTIFICATION, rb, sizeof rb, &rbn), CRM_OK);
  EXPECT(crm_grant_revoke_bytes(c, rb, rbn, CRM_PURPOSE_NOTIFICATION), CRM_OK);
  EXPECT(crm_grant_check_bytes(c, rb, rbn, CRM_PURPOSE_NOTIFICATION), CRM_GRANT_REVOKED);
  EXPECT(crm_field_read(c, T(r), CRM_PURPOSE_NOTIFICATION, rec, (uint8_t *)out, sizeof out, &olen), CRM_GRANT_REVOKED);
}

static void test_custodian(const char *db) {
  /* --- The composition root: clock, authenticator, staff directory, configuration. --- */
  crm_clock *clock = NULL; crm_authenticator *auth = NULL; crm_staff_directory *staff_dir = NULL;
  crm_custodian_config *cfg = NULL;
  EXPECT(crm_clock_new_manual(T0, NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_clock_new_manual(T0, &clock), CRM_OK);
  EXPECT(crm_authenticator_new(&auth), CRM_OK);
  EXPECT(crm_staff_directory_new(&staff_dir), CRM_OK);
  EXPECT(crm_custodian_config_new(&cfg), CRM_OK);
  EXPECT(crm_custodian_config_set_clock(cfg, clock), CRM_OK);
  EXPECT(crm_custodian_config_set_authenticator(cfg, auth), CRM_OK);
  EXPECT(crm_custodian_config_set_staff_directory(cfg, staff_dir), CRM_OK);
  EXPECT(crm_custodian_config_set_grant_ttl(cfg, 0), CRM_INVALID_ARGUMENT);
  EXPECT(crm_custodian_config_set_authenticate_callback(cfg, NULL, NULL, NULL), CRM_NULL_PARAMETER);
  /* Both callbacks are required: an authenticator says how its sessions end. */
  EXPECT(crm_custodian_config_set_authenticate_callback(cfg, authenticate_cb, NULL, NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_custodian_config_set_authenticate_callback(cfg, NULL, session_live_cb, NULL), CRM_NULL_PARAMETER);
  /* A handle of another type is refused, not reinterpreted. */
  EXPECT(crm_custodian_config_set_clock(cfg, (const crm_clock *)auth), CRM_INVALID_HANDLE);
  EXPECT(crm_custodian_config_set_authenticator(NULL, auth), CRM_NULL_PARAMETER);

  crm_custodian *c = NULL;
  EXPECT(crm_custodian_open(S(db), KEK, 16, IDX, 32, TOK, 32, cfg, &c), CRM_KEY_TOO_SHORT);
  EXPECT(crm_custodian_open(NULL, 3, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_NULL_PARAMETER);
  EXPECT(crm_custodian_open(S(db), KEK, 32, IDX, 32, TOK, 32, cfg, NULL), CRM_NULL_PARAMETER);
  CHECK(c == NULL); /* out-params untouched on failure */
  EXPECT(crm_custodian_open(S(db), KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_OK);
  crm_custodian_config_free(cfg); /* read at open; the custodian keeps what it needs */

  uint8_t alice[16], bob[16], sess_a[16], sess_b[16], sess_s[16];
  uint8_t rec_email[16], rec_name[16], rec_dev[16], rec_google[16], rec_zoom[16], rec_phone[16];
  EXPECT(crm_subject_register(c, alice, sizeof alice), CRM_OK);
  EXPECT(crm_subject_register(c, bob, sizeof bob), CRM_OK);
  EXPECT(crm_subject_register(NULL, bob, sizeof bob), CRM_NULL_PARAMETER);
  crm_subject_new(sess_a, 16); crm_subject_new(sess_b, 16); crm_subject_new(sess_s, 16);
  /* The host's login registers sessions; only the custodian turns them into sessions. */
  EXPECT(crm_authenticator_insert(auth, S("alice-cred"), alice, sess_a, T0, T0 + 3600), CRM_OK);
  EXPECT(crm_authenticator_insert(auth, S("bob-cred"), bob, sess_b, T0, T0 + 3600), CRM_OK);
  EXPECT(crm_authenticator_insert(auth, S("alice-short"), alice, sess_s, T0, T0 + 60), CRM_OK);
  EXPECT(crm_authenticator_insert(auth, NULL, 3, alice, sess_a, T0, T0 + 1), CRM_NULL_PARAMETER);

  /* --- Store by text; validation and codes. --- */
  const char *email = "alice.c@example.com";
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_EMAIL, S(email), rec_email, 16), CRM_OK);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_EMAIL, S("not-an-address"), rec_name, 16), CRM_INVALID_DATA);
  EXPECT(crm_field_store(c, alice, 99, S(email), rec_name, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_EMAIL, S(email), rec_name, 8), CRM_BUFFER_TOO_SMALL);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_EMAIL, (const uint8_t *)email, 0, rec_name, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_EMAIL, (const uint8_t *)email, (size_t)1 << 40, rec_name, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_PERSON_NAME, S("Alice C"), rec_name, 16), CRM_OK);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_PHONE, S("+4915112345678"), rec_phone, 16), CRM_OK);
  const char *dev = "{\"model\":\"Pixel\",\"os_version\":\"16\",\"app_version\":\"5.2\",\"screen\":[1080,2424]}";
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_DEVICE_INFO, S(dev), rec_dev, 16), CRM_OK);

  /* --- Service grants and reads. --- */
  token t, bt; char out[1024]; size_t olen = 0;
  EXPECT(grant(c, alice, CRM_PURPOSE_NOTIFICATION, "mailer", &t), CRM_OK);
  CHECK(t.n > 3 && memcmp(t.b, "g1.", 3) == 0);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);
  CHECK(olen == strlen(email) && memcmp(out, email, olen) == 0);
  test_token_bytes(c, &t, alice, rec_email, email);
  size_t need = 0;
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, 4, &need), CRM_BUFFER_TOO_SMALL);
  CHECK(need == strlen(email));
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_name, out, sizeof out, &olen), CRM_PURPOSE_NOT_PERMITTED);
  EXPECT(rd(c, &t, CRM_PURPOSE_ANALYTICS, rec_email, out, sizeof out, &olen), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(rd(c, &t, 99, rec_email, out, sizeof out, &olen), CRM_INVALID_ARGUMENT);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, NULL, out, sizeof out, &olen), CRM_NULL_PARAMETER);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, NULL), CRM_NULL_PARAMETER);
  /* Another subject's record reads exactly like a missing one. */
  EXPECT(grant(c, bob, CRM_PURPOSE_NOTIFICATION, "mailer", &bt), CRM_OK);
  EXPECT(rd(c, &bt, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_NOT_VISIBLE);
  uint8_t nowhere[16]; crm_subject_new(nowhere, 16);
  EXPECT(rd(c, &bt, CRM_PURPOSE_NOTIFICATION, nowhere, out, sizeof out, &olen), CRM_NOT_VISIBLE);
  EXPECT(grant(c, alice, CRM_PURPOSE_OWNER_ACCESS, "x", &bt), CRM_PURPOSE_NEEDS_SESSION);
  EXPECT(grant(c, alice, CRM_PURPOSE_CONFERENCE_CREATION, "x", &bt), CRM_PURPOSE_NEEDS_SESSION);
  EXPECT(grant(c, alice, CRM_PURPOSE_LEGAL_COMPLIANCE, "x", &bt), CRM_PROOF_REQUIRED);
  EXPECT(grant(c, alice, 0, "x", &bt), CRM_INVALID_ARGUMENT);
  /* A component name is kept in clear: one that reads as personal data is refused. */
  EXPECT(grant(c, alice, CRM_PURPOSE_NOTIFICATION, "alice@example.com", &bt), CRM_INVALID_DATA);
  EXPECT(grant(c, alice, CRM_PURPOSE_NOTIFICATION, "sms +44 20 7946 0958", &bt), CRM_INVALID_DATA);
  EXPECT(grant(c, alice, CRM_PURPOSE_NOTIFICATION, "from 10.1.2.3", &bt), CRM_INVALID_DATA);
  EXPECT(crm_custodian_grant(c, alice, CRM_PURPOSE_NOTIFICATION, S("mailer"), (uint8_t *)bt.b, 8, &need), CRM_BUFFER_TOO_SMALL);
  CHECK(need > 8 && need < sizeof bt.b);
  token at;
  EXPECT(grant(c, alice, CRM_PURPOSE_ANALYTICS, "stats", &at), CRM_OK);
  EXPECT(rd(c, &at, CRM_PURPOSE_ANALYTICS, rec_dev, out, sizeof out, &olen), CRM_OK);
  CHECK(olen > 0 && memmem(out, olen, "Pixel", 5) != NULL);

  /* --- Forged and malformed tokens. --- */
  token forged = t;
  forged.b[t.n / 2] = forged.b[t.n / 2] == 'A' ? 'B' : 'A';
  EXPECT(rd(c, &forged, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(crm_field_read(c, S("g1.!!"), CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_TOKEN_MALFORMED);
  const uint8_t bad_utf8[] = {0x67, 0x31, 0x2e, 0xff, 0xfe};
  EXPECT(crm_field_read(c, bad_utf8, sizeof bad_utf8, CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_INVALID_UTF8);
  EXPECT(crm_field_read(c, (const uint8_t *)t.b, 0, CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_read(c, NULL, t.n, CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_revoke(c, T(forged), CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_BAD_SIGNATURE);

  /* --- Another authority: a second custodian with its own token key. --- */
  char db_b[512]; snprintf(db_b, sizeof db_b, "%s.b", db);
  crm_custodian *cb = NULL;
  EXPECT(crm_custodian_open(S(db_b), KEK, 32, IDX, 32, TOK_B, 32, NULL, &cb), CRM_OK);
  uint8_t carol[16], rec_carol[16];
  EXPECT(crm_subject_register(cb, carol, 16), CRM_OK);
  EXPECT(crm_field_store(cb, carol, CRM_CATEGORY_EMAIL, S("carol@example.com"), rec_carol, 16), CRM_OK);
  token foreign;
  EXPECT(grant(cb, carol, CRM_PURPOSE_NOTIFICATION, "mailer", &foreign), CRM_OK);
  EXPECT(rd(cb, &foreign, CRM_PURPOSE_NOTIFICATION, rec_carol, out, sizeof out, &olen), CRM_OK);
  /* Same key id, another secret: the signature does not verify under this authority. */
  EXPECT(rd(c, &foreign, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(rd(cb, &t, CRM_PURPOSE_NOTIFICATION, rec_carol, out, sizeof out, &olen), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(crm_grant_revoke(c, T(foreign), CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_BAD_SIGNATURE);
  /* No authenticator configured there: every credential is refused. */
  token ot;
  EXPECT(crm_grant_owner(cb, S("alice-cred"), (uint8_t *)ot.b, sizeof ot.b, &ot.n), CRM_CREDENTIAL_REJECTED);
  crm_custodian_free(cb);

  /* --- Custodian revocation stops the token at once. --- */
  token rt;
  EXPECT(grant(c, alice, CRM_PURPOSE_NOTIFICATION, "mailer", &rt), CRM_OK);
  EXPECT(rd(c, &rt, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);
  EXPECT(crm_grant_revoke(c, T(rt), CRM_PURPOSE_ANALYTICS), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_grant_revoke(c, T(rt), CRM_PURPOSE_NOTIFICATION), CRM_OK);
  EXPECT(rd(c, &rt, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_GRANT_REVOKED);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK); /* others unaffected */

  /* --- A second process of the deployment: the same store, token key and clock (a
   * deployment shares its time source), no authenticator. */
  crm_custodian *c2 = NULL; crm_custodian_config *cfg2 = NULL;
  EXPECT(crm_custodian_config_new(&cfg2), CRM_OK);
  EXPECT(crm_custodian_config_set_clock(cfg2, clock), CRM_OK);
  EXPECT(crm_custodian_open(S(db), KEK, 32, IDX, 32, TOK, 32, cfg2, &c2), CRM_OK);
  crm_custodian_config_free(cfg2);
  /* The wrong key-encryption key for these files: a typed refusal, nothing opened. */
  crm_custodian *c3 = NULL;
  EXPECT(crm_custodian_open(S(db), KEK_WRONG, 32, IDX, 32, TOK, 32, NULL, &c3), CRM_KEY_MISMATCH);
  CHECK(c3 == NULL);
  EXPECT(rd(c2, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);
  EXPECT(rd(c2, &rt, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_GRANT_REVOKED);
  token t2;
  EXPECT(grant(c2, alice, CRM_PURPOSE_NOTIFICATION, "mailer-2", &t2), CRM_OK);
  EXPECT(rd(c, &t2, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);
  EXPECT(crm_grant_revoke(c2, T(t2), CRM_PURPOSE_NOTIFICATION), CRM_OK);
  EXPECT(rd(c, &t2, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_GRANT_REVOKED);

  /* --- Consent: given only in the subject's own session; gates collection and use. --- */
  token auth_t;
  EXPECT(grant(c, alice, CRM_PURPOSE_AUTHENTICATION, "login", &auth_t), CRM_NO_CONSENT);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_GOOGLE_ACCOUNT_ID, S("g-77"), rec_google, 16), CRM_COLLECTION_WITHOUT_CONSENT);
  EXPECT(crm_consent_give(c, S("mallory-cred"), CRM_SCOPE_GOOGLE_LINK), CRM_CREDENTIAL_REJECTED);
  EXPECT(crm_consent_give(c, NULL, 4, CRM_SCOPE_GOOGLE_LINK), CRM_NULL_PARAMETER);
  EXPECT(crm_consent_give(c, S("alice-cred"), 77), CRM_INVALID_ARGUMENT);
  /* Evidence is kept in clear in the ledger: a reference, never the person's data. */
  EXPECT(crm_consent_give_with(c, S("alice-cred"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION,
                               S("alice@example.com"), NULL, 0), CRM_INVALID_DATA);
  EXPECT(crm_consent_give(c, S("alice-cred"), CRM_SCOPE_POLICY_VERSION), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_give(c, S("alice-cred"), CRM_SCOPE_GOOGLE_LINK), CRM_OK);
  EXPECT(crm_policy_acknowledge(c, S("alice-cred"), 2), CRM_OK);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_GOOGLE_ACCOUNT_ID, S("g-77"), rec_google, 16), CRM_OK);
  EXPECT(grant(c, alice, CRM_PURPOSE_AUTHENTICATION, "login", &auth_t), CRM_OK);
  EXPECT(rd(c, &auth_t, CRM_PURPOSE_AUTHENTICATION, rec_google, out, sizeof out, &olen), CRM_OK);
  CHECK(olen == 4 && memcmp(out, "g-77", 4) == 0);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_GOOGLE_LINK), CRM_OK);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_GOOGLE_LINK), CRM_CONSENT_NOT_IN_FORCE); /* twice: documented */
  EXPECT(rd(c, &auth_t, CRM_PURPOSE_AUTHENTICATION, rec_google, out, sizeof out, &olen), CRM_CONSENT_WITHDRAWN);
  EXPECT(rd(c2, &auth_t, CRM_PURPOSE_AUTHENTICATION, rec_google, out, sizeof out, &olen), CRM_CONSENT_WITHDRAWN);
  crm_custodian_free(c2);
  EXPECT(grant(c, alice, CRM_PURPOSE_AUTHENTICATION, "login", &auth_t), CRM_NO_CONSENT);

  /* --- GPC (clauses 3.4, 3.6): Sec-GPC read as the spec says; the opt-out recorded once. --- */
  uint32_t sig = 99, gpc_n = 99;
  EXPECT(crm_gpc_signal(S(" 1 "), &sig), CRM_OK); CHECK(sig == CRM_GPC_OPT_OUT);
  EXPECT(crm_gpc_signal(S("1, 1"), &sig), CRM_OK); CHECK(sig == CRM_GPC_ABSENT);
  EXPECT(crm_gpc_signal(S("0"), &sig), CRM_OK); CHECK(sig == CRM_GPC_ABSENT);
  /* (NULL, 0) is the empty value, as the header allows: no signal. */
  sig = 77;
  EXPECT(crm_gpc_signal(NULL, 0, &sig), CRM_OK); CHECK(sig == CRM_GPC_ABSENT);
  EXPECT(crm_gpc_signal(NULL, 1, &sig), CRM_NULL_PARAMETER);
  EXPECT(crm_gpc_signal((const uint8_t *)"", 0, &sig), CRM_OK); CHECK(sig == CRM_GPC_ABSENT);
  EXPECT(crm_gpc_signal(S("1"), NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_gpc_apply(c, S("alice-cred"), 7, NULL, 0, &gpc_n), CRM_INVALID_ARGUMENT);
  EXPECT(crm_gpc_apply(c, S("mallory-cred"), CRM_GPC_OPT_OUT, NULL, 0, &gpc_n), CRM_CREDENTIAL_REJECTED);
  EXPECT(crm_gpc_apply(c, S("alice-cred"), CRM_GPC_OPT_OUT, S("203.0.113.7 Mozilla"), &gpc_n), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_give(c, S("alice-cred"), CRM_SCOPE_COOKIES), CRM_OK);
  EXPECT(crm_gpc_apply(c, S("alice-cred"), CRM_GPC_OPT_OUT, S("req-1"), &gpc_n), CRM_OK);
  CHECK(gpc_n == 1);
  EXPECT(crm_gpc_apply(c, S("alice-cred"), CRM_GPC_OPT_OUT, NULL, 0, &gpc_n), CRM_OK);
  CHECK(gpc_n == 0); /* idempotent */
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_COOKIES), CRM_CONSENT_NOT_IN_FORCE); /* the signal withdrew it */

  /* --- Zoom: conference only with the link and a request the subject makes now. --- */
  token conf, own;
  EXPECT(crm_grant_conference(c, S("alice-cred"), (uint8_t *)conf.b, sizeof conf.b, &conf.n), CRM_NO_CONSENT);
  EXPECT(crm_consent_give(c, S("alice-cred"), CRM_SCOPE_ZOOM_LINK), CRM_OK);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_ZOOM_ACCESS_TOKEN, S("zoom-secret"), rec_zoom, 16), CRM_OK);
  EXPECT(crm_grant_conference(c, S("alice-cred"), (uint8_t *)conf.b, sizeof conf.b, &conf.n), CRM_OK);
  EXPECT(rd(c, &conf, CRM_PURPOSE_CONFERENCE_CREATION, rec_zoom, out, sizeof out, &olen), CRM_OK);
  CHECK(olen == 11 && memcmp(out, "zoom-secret", 11) == 0);
  EXPECT(crm_grant_owner(c, S("alice-cred"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_OK);
  EXPECT(crm_grant_owner(c, S("nobody"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_CREDENTIAL_REJECTED);
  EXPECT(rd(c, &own, CRM_PURPOSE_OWNER_ACCESS, rec_zoom, out, sizeof out, &olen), CRM_PURPOSE_NOT_PERMITTED);
  EXPECT(rd(c, &own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_OK);
  token bob_own;
  EXPECT(crm_grant_owner(c, S("bob-cred"), (uint8_t *)bob_own.b, sizeof bob_own.b, &bob_own.n), CRM_OK);
  EXPECT(rd(c, &bob_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_NOT_VISIBLE);
  /* --- Sharing (clause 5): nothing visible to colleagues until the subject shares. --- */
  token team;
  /* The sharing choice is the consent behind sharing purposes: nothing shared, no grant. */
  EXPECT(grant(c, alice, CRM_PURPOSE_TEAM_COLLABORATION, "team", &team), CRM_NO_CONSENT);
  const uint8_t share_email[] = {CRM_CATEGORY_EMAIL}, share_contact[] = {CRM_CATEGORY_DEVICE_CONTACT};
  EXPECT(crm_sharing_set(c, T(own), share_contact, 1, NULL, 0), CRM_DISCLOSURE_REFUSED);
  EXPECT(crm_sharing_set(c, T(t), share_email, 1, NULL, 0), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_sharing_set(c, T(own), NULL, 1, NULL, 0), CRM_NULL_PARAMETER);
  EXPECT(crm_sharing_set(c, T(own), share_email, 1, NULL, 0), CRM_OK);
  EXPECT(grant(c, alice, CRM_PURPOSE_TEAM_COLLABORATION, "team", &team), CRM_OK);
  EXPECT(rd(c, &team, CRM_PURPOSE_TEAM_COLLABORATION, rec_email, out, sizeof out, &olen), CRM_OK);
  EXPECT(rd(c, &team, CRM_PURPOSE_TEAM_COLLABORATION, rec_phone, out, sizeof out, &olen), CRM_NOT_SHARED);
  EXPECT(crm_sharing_set(c, T(own), NULL, 0, NULL, 0), CRM_OK);
  EXPECT(rd(c, &team, CRM_PURPOSE_TEAM_COLLABORATION, rec_email, out, sizeof out, &olen), CRM_NOT_SHARED);
  token sess_t;
  EXPECT(crm_grant_for_session(c, S("alice-cred"), CRM_PURPOSE_NOTIFICATION, (uint8_t *)sess_t.b, sizeof sess_t.b, &sess_t.n), CRM_OK);
  EXPECT(rd(c, &sess_t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);

  /* --- Rectify (owner only), then lookups with a lookup grant. --- */
  EXPECT(crm_field_rectify(c, T(own), rec_email, CRM_CATEGORY_EMAIL, S("alice.new@example.com")), CRM_OK);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);
  CHECK(olen == 21 && memcmp(out, "alice.new@example.com", 21) == 0);
  EXPECT(crm_field_rectify(c, T(t), rec_email, CRM_CATEGORY_EMAIL, S("x@example.com")), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_field_rectify(c, T(own), rec_email, CRM_CATEGORY_EMAIL, S("broken")), CRM_INVALID_DATA);
  /* Compound kinds rectify through the same text form as storing. */
  EXPECT(crm_field_rectify(c, T(own), rec_dev, CRM_CATEGORY_DEVICE_INFO, S(dev)), CRM_OK);
  EXPECT(crm_field_rectify(c, T(own), rec_dev, CRM_CATEGORY_DEVICE_INFO, S("{\"model\":1}")), CRM_INVALID_DATA);
  EXPECT(crm_field_rectify(c, T(bob_own), rec_email, CRM_CATEGORY_EMAIL, S("x@example.com")), CRM_NOT_VISIBLE);
  crm_lookup_grant *lg = NULL, *lg_phone = NULL;
  EXPECT(crm_grant_lookup(c, CRM_PURPOSE_ANALYTICS, S("recovery"), &lg), CRM_PURPOSE_NOT_PERMITTED);
  CHECK(lg == NULL);
  EXPECT(crm_grant_lookup(c, CRM_PURPOSE_NOTIFICATION, S("recovery"), &lg), CRM_OK);
  uint8_t found[64]; size_t flen = 0;
  EXPECT(crm_find_by_email(c, lg, S("alice.new@example.com"), found, sizeof found, &flen), CRM_OK);
  CHECK(flen == 16 && memcmp(found, alice, 16) == 0);
  EXPECT(crm_find_by_email(c, lg, S("nobody@example.com"), found, sizeof found, &flen), CRM_OK);
  CHECK(flen == 0);
  EXPECT(crm_find_by_email(c, lg, S("not an email"), found, sizeof found, &flen), CRM_INVALID_DATA);
  EXPECT(crm_find_by_phone(c, lg, S("+4915112345678"), found, sizeof found, &flen), CRM_PURPOSE_NOT_PERMITTED);
  EXPECT(crm_find_by_email(c, NULL, S("alice.new@example.com"), found, sizeof found, &flen), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_lookup(c, CRM_PURPOSE_IDENTITY_VERIFICATION, S("otp"), &lg_phone), CRM_OK);
  EXPECT(crm_find_by_phone(c, lg_phone, S("+4915112345678"), found, sizeof found, &flen), CRM_OK);
  CHECK(flen == 16 && memcmp(found, alice, 16) == 0);
  /* (NULL, 0) is a size probe, with or without matches. */
  flen = 99;
  EXPECT(crm_find_by_phone(c, lg_phone, S("+4915112345678"), NULL, 0, &flen), CRM_BUFFER_TOO_SMALL);
  CHECK(flen == 16);
  EXPECT(crm_find_by_phone(c, lg_phone, S("+14155552671"), NULL, 0, &flen), CRM_OK);
  CHECK(flen == 0);
  EXPECT(crm_find_by_phone(c, lg_phone, S("+14155552671"), NULL, 8, &flen), CRM_NULL_PARAMETER);
  crm_lookup_grant_free(lg_phone);

  /* --- Staff: only with an NDA on file in the custodian's directory. --- */
  uint8_t staff[16]; crm_subject_new(staff, 16);
  token st;
  EXPECT(crm_grant_staff(c, alice, CRM_PURPOSE_SUPPORT_CONTACT, staff, (uint8_t *)st.b, sizeof st.b, &st.n), CRM_NDA_MISSING);
  EXPECT(crm_staff_directory_file(staff_dir, staff, S("nda/2027/17"), T0 - 86400, 0), CRM_OK);
  EXPECT(crm_grant_staff(c, alice, CRM_PURPOSE_SUPPORT_CONTACT, staff, (uint8_t *)st.b, sizeof st.b, &st.n), CRM_OK);
  EXPECT(rd(c, &st, CRM_PURPOSE_SUPPORT_CONTACT, rec_phone, out, sizeof out, &olen), CRM_OK);
  EXPECT(crm_staff_directory_remove(staff_dir, staff), CRM_OK);
  EXPECT(rd(c, &st, CRM_PURPOSE_SUPPORT_CONTACT, rec_phone, out, sizeof out, &olen), CRM_NDA_MISSING);

  /* --- Lawful requests (7.2). --- */
  uint8_t req[16], fake_req[16]; crm_subject_new(fake_req, 16);
  token lt;
  EXPECT(crm_lawful_request_record(c, alice, S("Police"), S(""), S("ref-1"), req, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_lawful_request_record(c, alice, S("Police"), S(" "), S("ref-1"), req, 16), CRM_INVALID_DATA);
  EXPECT(crm_lawful_request_record(c, alice, S("Police"), S("StPO 100"), S("officer bob@police.example"), req, 16), CRM_INVALID_DATA);
  EXPECT(crm_lawful_request_record(c, alice, S("Police"), S("StPO 100"), S("ref-1"), NULL, 16), CRM_NULL_PARAMETER);
  EXPECT(crm_lawful_request_record(c, alice, S("Police"), S("StPO 100"), S("ref-1"), req, 16), CRM_OK);
  EXPECT(crm_grant_lawful(c, alice, fake_req, S("legal"), (uint8_t *)lt.b, sizeof lt.b, &lt.n), CRM_NO_LAWFUL_REQUEST);
  EXPECT(crm_grant_lawful(c, bob, req, S("legal"), (uint8_t *)lt.b, sizeof lt.b, &lt.n), CRM_NO_LAWFUL_REQUEST);
  EXPECT(crm_grant_lawful(c, alice, req, S("legal"), (uint8_t *)lt.b, sizeof lt.b, &lt.n), CRM_OK);
  EXPECT(rd(c, &lt, CRM_PURPOSE_LEGAL_COMPLIANCE, rec_email, out, sizeof out, &olen), CRM_OK);

  /* --- Restriction stops grants at once; lifting restores them. --- */
  EXPECT(crm_restrict(c, alice), CRM_OK);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_RESTRICTED);
  EXPECT(grant(c, alice, CRM_PURPOSE_NOTIFICATION, "mailer", &bt), CRM_RESTRICTED);
  EXPECT(crm_lift_restriction(c, alice), CRM_OK);
  EXPECT(rd(c, &t, CRM_PURPOSE_NOTIFICATION, rec_email, out, sizeof out, &olen), CRM_OK);

  /* --- Expired sessions (the custodian's clock, never the caller's). --- */
  token short_own;
  EXPECT(crm_grant_owner(c, S("alice-short"), (uint8_t *)short_own.b, sizeof short_own.b, &short_own.n), CRM_OK);
  EXPECT(rd(c, &short_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_OK);
  /* Moves past the representable range are refused and leave the clock alone. */
  EXPECT(crm_clock_advance(clock, INT64_MAX), CRM_TIME_OUT_OF_RANGE);
  EXPECT(crm_clock_advance(clock, INT64_MIN), CRM_TIME_OUT_OF_RANGE);
  EXPECT(crm_clock_advance(clock, (int64_t)400000 * 366 * 86400), CRM_TIME_OUT_OF_RANGE);
  EXPECT(rd(c, &short_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_OK);
  EXPECT(crm_clock_advance(clock, 61), CRM_OK);
  EXPECT(crm_grant_owner(c, S("alice-short"), (uint8_t *)ot.b, sizeof ot.b, &ot.n), CRM_SESSION_EXPIRED);
  /* The owner grant ended with its session. */
  EXPECT(rd(c, &short_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_TOKEN_EXPIRED);

  /* A logout ends the session's grants at their next use (the token is still signed). */
  uint8_t sess_tab[16]; crm_subject_new(sess_tab, 16);
  token tab_own;
  EXPECT(crm_authenticator_insert(auth, S("alice-tab"), alice, sess_tab, T0, T0 + 7200), CRM_OK);
  EXPECT(crm_grant_owner(c, S("alice-tab"), (uint8_t *)tab_own.b, sizeof tab_own.b, &tab_own.n), CRM_OK);
  EXPECT(rd(c, &tab_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_OK);
  EXPECT(crm_authenticator_remove(auth, S("alice-tab")), CRM_OK);
  EXPECT(rd(c, &tab_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_SESSION_ENDED);
  /* Logging in again on the ended session's id does not bring it (or its grants) back. */
  EXPECT(crm_authenticator_insert(auth, S("alice-tab"), alice, sess_tab, T0, T0 + 7200), CRM_OK);
  EXPECT(rd(c, &tab_own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_SESSION_ENDED);
  EXPECT(crm_grant_owner(c, S("alice-tab"), (uint8_t *)ot.b, sizeof ot.b, &ot.n), CRM_CREDENTIAL_REJECTED);

  /* --- Export for the owner only; sweep, verify, erase. --- */
  EXPECT(crm_grant_owner(c, S("alice-cred"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_OK);
  char json[8192]; size_t jlen = 0;
  EXPECT(crm_export_json(c, T(own), (uint8_t *)json, sizeof json, &jlen), CRM_OK);
  CHECK(jlen > 0 && memmem(json, jlen, "alice.new@example.com", 21) != NULL);
  EXPECT(crm_export_json(c, T(t), (uint8_t *)json, sizeof json, &jlen), CRM_TOKEN_WRONG_PURPOSE);
  uint64_t checked = 0, deleted = 0, ledger = 0, audit = 0, erased = 0;
  EXPECT(crm_retention_sweep(c, &checked, &deleted), CRM_OK);
  CHECK(checked >= 5 && deleted == 0);
  EXPECT(crm_retention_sweep(c, NULL, &deleted), CRM_NULL_PARAMETER);
  EXPECT(crm_audit_verify(c, &ledger, &audit), CRM_OK);
  CHECK(ledger >= 5 && audit > ledger);
  EXPECT(crm_erase(c, alice, &erased), CRM_OK);
  CHECK(erased >= 4);
  EXPECT(rd(c, &own, CRM_PURPOSE_OWNER_ACCESS, rec_name, out, sizeof out, &olen), CRM_ERASED);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_PERSON_NAME, S("Alice C"), rec_name, 16), CRM_ERASED);
  EXPECT(crm_find_by_email(c, lg, S("alice.new@example.com"), found, sizeof found, &flen), CRM_OK);
  CHECK(flen == 0);
  crm_lookup_grant_free(lg);

  /* --- Handles: freed, foreign and NULL are refused; double free is a no-op. --- */
  crm_custodian_free(c);
  EXPECT(crm_subject_register(c, bob, 16), CRM_INVALID_HANDLE);
  crm_custodian_free(c);
  crm_custodian_free(NULL);
  int not_a_handle = 7;
  EXPECT(crm_subject_register((const crm_custodian *)&not_a_handle, bob, 16), CRM_INVALID_HANDLE);
  crm_custodian_free((crm_custodian *)&not_a_handle);
  EXPECT(crm_subject_register((const crm_custodian *)clock, bob, 16), CRM_INVALID_HANDLE);
  crm_clock_free(clock);
  EXPECT(crm_clock_advance(clock, 1), CRM_INVALID_HANDLE);
  crm_authenticator_free(auth);
  crm_staff_directory_free(staff_dir);
  crm_lookup_grant_free(NULL);
  crm_custodian_config_free(NULL);
}

static void test_callback_authenticator(const char *db) {
  char path[512]; snprintf(path, sizeof path, "%s.cb", db);
  crm_custodian_config *cfg = NULL; crm_custodian *c = NULL; crm_clock *clock = NULL;
  cb_ctx ctx; memset(&ctx, 0, sizeof ctx);
  EXPECT(crm_custodian_config_new(&cfg), CRM_OK);
  EXPECT(crm_clock_new_manual(T0 + 10, &clock), CRM_OK);
  EXPECT(crm_custodian_config_set_clock(cfg, clock), CRM_OK);
  EXPECT(crm_custodian_config_set_authenticate_callback(cfg, authenticate_cb, session_live_cb, &ctx), CRM_OK);
  EXPECT(crm_custodian_open(S(path), KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_OK);
  crm_custodian_config_free(cfg);
  EXPECT(crm_subject_register(c, ctx.subject, 16), CRM_OK);
  token own;
  EXPECT(crm_grant_owner(c, S("cb-cred"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_OK);
  EXPECT(crm_grant_owner(c, S("cb-wrong"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_CREDENTIAL_REJECTED);
  EXPECT(crm_grant_owner(c, S("cb-expired!"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_SESSION_EXPIRED);
  EXPECT(crm_consent_give(c, S("cb-cred"), CRM_SCOPE_COOKIES), CRM_OK);
  CHECK(ctx.calls == 4);
  /* The owner grant reads while the session is live, and not after the host's logout. */
  uint8_t rec[16]; char out[64]; size_t olen = 0;
  EXPECT(crm_field_store(c, ctx.subject, CRM_CATEGORY_PERSON_NAME, S("Cb Owner"), rec, 16), CRM_OK);
  EXPECT(rd(c, &own, CRM_PURPOSE_OWNER_ACCESS, rec, out, sizeof out, &olen), CRM_OK);
  CHECK(olen == 8 && memcmp(out, "Cb Owner", 8) == 0);
  CHECK(ctx.live_calls >= 1);
  ctx.logged_out = 1;
  EXPECT(rd(c, &own, CRM_PURPOSE_OWNER_ACCESS, rec, out, sizeof out, &olen), CRM_SESSION_ENDED);
  EXPECT(crm_consent_give(c, S("cb-cred"), CRM_SCOPE_COOKIES), CRM_SESSION_ENDED);
  ctx.logged_out = 0;
  /* The callback's session ends at T0 + 600 by the custodian's clock. */
  EXPECT(crm_clock_set(clock, T0 + 601), CRM_OK);
  EXPECT(crm_consent_give(c, S("cb-cred"), CRM_SCOPE_COOKIES), CRM_SESSION_EXPIRED);
  crm_custodian_free(c);
  crm_clock_free(clock);
}

int main(int argc, char **argv) {
  test_messages();
  test_policy();
  if (argc > 1) {
    test_custodian(argv[1]);
    test_callback_authenticator(argv[1]);
  }
  printf("c tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
