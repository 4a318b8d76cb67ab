/* C tests of the crm-privacy ABI: the happy path and every refusal, including bad input at
 * the boundary (NULL for every pointer, invalid UTF-8, zero and huge lengths, freed and
 * foreign handles, short buffers). Prints its own pass/fail counts; exits 1 on failure. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crm_privacy.h"

static int passed = 0, failed = 0;
#define CHECK(cond) do { if (cond) { passed++; } else { failed++; \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define EXPECT(call, code) CHECK((call) == (code))

/* Purpose and category codes (crm_privacy::PurposeId / Category). */
enum { P_NOTIFICATION = 1, P_IDENTITY = 2, P_CONFERENCE = 5, P_ANALYTICS = 6, P_OWNER = 9 };
enum { C_EMAIL = 2, C_PHONE = 3, C_IP = 6, C_DEVICE_CONTACT = 12 };

static const uint8_t SECRET[32] = "0123456789abcdef0123456789abcdef";

static void test_messages(void) {
  uint8_t buf[128]; size_t n = 0;
  EXPECT(crm_result_message(CRM_GRANT_REVOKED, buf, sizeof buf, &n), CRM_OK);
  CHECK(n > 0 && memcmp(buf, "the grant has been revoked", n) == 0);
  /* Too small: the needed size is reported, nothing else written. */
  size_t need = 0;
  EXPECT(crm_result_message(CRM_GRANT_REVOKED, buf, 3, &need), CRM_BUFFER_TOO_SMALL);
  CHECK(need == n);
  EXPECT(crm_result_message(CRM_OK, NULL, 10, &n), CRM_NULL_PARAMETER);
  EXPECT(crm_result_message(CRM_OK, buf, sizeof buf, NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_result_message(424242, buf, sizeof buf, &n), CRM_OK); /* unknown code: generic text */
}

static void test_policy(void) {
  CHECK(crm_policy_permits(C_EMAIL, P_NOTIFICATION));
  CHECK(!crm_policy_permits(C_PHONE, P_ANALYTICS));
  CHECK(crm_policy_permits(C_DEVICE_CONTACT, P_OWNER));
  CHECK(!crm_policy_permits(C_DEVICE_CONTACT, P_NOTIFICATION));
  CHECK(!crm_policy_permits(0, 1) && !crm_policy_permits(200, 200));
}

static void test_issuer_and_grants(void) {
  struct crm_issuer *issuer = NULL;
  EXPECT(crm_issuer_new(NULL, 32, 1, 300, &issuer), CRM_NULL_PARAMETER);
  EXPECT(crm_issuer_new(SECRET, 0, 1, 300, &issuer), CRM_INVALID_ARGUMENT);
  EXPECT(crm_issuer_new(SECRET, 16, 1, 300, &issuer), CRM_KEY_TOO_SHORT);
  EXPECT(crm_issuer_new(SECRET, (size_t)1 << 40, 1, 300, &issuer), CRM_INVALID_ARGUMENT);
  EXPECT(crm_issuer_new(SECRET, 32, 1, 0, &issuer), CRM_INVALID_ARGUMENT);
  EXPECT(crm_issuer_new(SECRET, 32, 1, 300, NULL), CRM_NULL_PARAMETER);
  CHECK(issuer == NULL); /* out-params untouched on failure */
  EXPECT(crm_issuer_new(SECRET, 32, 1, 300, &issuer), CRM_OK);
  CHECK(issuer != NULL);

  uint8_t alice[CRM_SUBJECT_ID_LEN], bob[CRM_SUBJECT_ID_LEN];
  EXPECT(crm_subject_new(alice, sizeof alice), CRM_OK);
  EXPECT(crm_subject_new(bob, sizeof bob), CRM_OK);
  EXPECT(crm_subject_new(bob, 4), CRM_BUFFER_TOO_SMALL);
  CHECK(memcmp(alice, bob, 16) != 0);

  char token[512]; size_t tlen = 0;
  const char *mailer = "mailer";
  EXPECT(crm_grant_issue(issuer, alice, P_NOTIFICATION, (const uint8_t *)mailer, strlen(mailer),
                         (uint8_t *)token, sizeof token, &tlen), CRM_OK);
  CHECK(tlen > 3 && memcmp(token, "g1.", 3) == 0);

  /* Happy path, then every refusal. */
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_OK);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, bob), CRM_WRONG_SUBJECT);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, C_PHONE, alice), CRM_PURPOSE_NOT_PERMITTED);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_IDENTITY, C_PHONE, alice), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, 99, C_EMAIL, alice), CRM_INVALID_ARGUMENT);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, 99, alice), CRM_INVALID_ARGUMENT);
  char forged[512]; memcpy(forged, token, tlen);
  forged[tlen / 2] = forged[tlen / 2] == 'A' ? 'B' : 'A';
  EXPECT(crm_grant_check(issuer, (uint8_t *)forged, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_TOKEN_BAD_SIGNATURE);
  EXPECT(crm_grant_check(issuer, (const uint8_t *)"g1.!!", 5, P_NOTIFICATION, C_EMAIL, alice), CRM_TOKEN_MALFORMED);
  const uint8_t bad_utf8[] = {0x67, 0x31, 0x2e, 0xff, 0xfe};
  EXPECT(crm_grant_check(issuer, bad_utf8, sizeof bad_utf8, P_NOTIFICATION, C_EMAIL, alice), CRM_INVALID_UTF8);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, 0, P_NOTIFICATION, C_EMAIL, alice), CRM_INVALID_ARGUMENT);
  EXPECT(crm_grant_check(issuer, NULL, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_check(NULL, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_NULL_PARAMETER);

  /* A token from another key is refused. */
  struct crm_issuer *other = NULL;
  const uint8_t other_secret[32] = "ffffffffffffffffffffffffffffffff";
  EXPECT(crm_issuer_new(other_secret, 32, 1, 300, &other), CRM_OK);
  EXPECT(crm_grant_check(other, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_TOKEN_BAD_SIGNATURE);
  crm_issuer_free(other);

  /* Session-only purposes cannot be issued to a service component. */
  EXPECT(crm_grant_issue(issuer, alice, P_OWNER, (const uint8_t *)mailer, strlen(mailer),
                         (uint8_t *)token, sizeof token, &tlen), CRM_PURPOSE_NEEDS_SESSION);
  EXPECT(crm_grant_issue(issuer, alice, P_CONFERENCE, (const uint8_t *)mailer, strlen(mailer),
                         (uint8_t *)token, sizeof token, &tlen), CRM_PURPOSE_NEEDS_SESSION);
  /* Short output buffer: needed size reported. */
  size_t need = 0;
  EXPECT(crm_grant_issue(issuer, alice, P_NOTIFICATION, (const uint8_t *)mailer, strlen(mailer),
                         (uint8_t *)token, 8, &need), CRM_BUFFER_TOO_SMALL);
  CHECK(need > 8 && need < sizeof token);
  EXPECT(crm_grant_issue(issuer, alice, P_NOTIFICATION, (const uint8_t *)mailer, strlen(mailer),
                         (uint8_t *)token, sizeof token, &tlen), CRM_OK);

  /* Revocation. */
  EXPECT(crm_grant_revoke(issuer, (uint8_t *)token, tlen, P_NOTIFICATION), CRM_OK);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_GRANT_REVOKED);

  /* Freed and foreign handles are refused, not dereferenced; double free is a no-op. */
  crm_issuer_free(issuer);
  EXPECT(crm_grant_check(issuer, (uint8_t *)token, tlen, P_NOTIFICATION, C_EMAIL, alice), CRM_INVALID_HANDLE);
  crm_issuer_free(issuer);
  int not_a_handle = 7;
  EXPECT(crm_grant_check((const struct crm_issuer *)&not_a_handle, (uint8_t *)token, tlen,
                         P_NOTIFICATION, C_EMAIL, alice), CRM_INVALID_HANDLE);
  crm_issuer_free((struct crm_issuer *)&not_a_handle);
  crm_issuer_free(NULL);
}

static const uint8_t KEK[32] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
static const uint8_t IDX[32] = "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii";
static const uint8_t TOK[32] = "tttttttttttttttttttttttttttttttt";
enum { P_SUPPORT = 3, P_AUTH = 4 };
enum { C_NAME = 1, C_GOOGLE = 8, C_ZOOM_TOKEN = 11, C_DEVICE_INFO = 7 };
enum { S_GOOGLE = 1, S_ZOOM = 3 };

static void test_custodian(const char *db) {
  struct crm_custodian *c = NULL;
  EXPECT(crm_custodian_open((const uint8_t *)db, strlen(db), KEK, 16, IDX, 32, TOK, 32, &c), CRM_KEY_TOO_SHORT);
  EXPECT(crm_custodian_open(NULL, 3, KEK, 32, IDX, 32, TOK, 32, &c), CRM_NULL_PARAMETER);
  EXPECT(crm_custodian_open((const uint8_t *)db, strlen(db), KEK, 32, IDX, 32, TOK, 32, &c), CRM_OK);

  uint8_t alice[16], bob[16], rec_email[16], rec_name[16], rec_token[16], rec_google[16], rec_dev[16];
  EXPECT(crm_subject_register(c, alice, sizeof alice), CRM_OK);
  EXPECT(crm_subject_register(c, bob, sizeof bob), CRM_OK);
  const char *email = "alice.c@example.com";
  EXPECT(crm_field_store(c, alice, C_EMAIL, (const uint8_t *)email, strlen(email), rec_email, 16), CRM_OK);
  const char *bad_email = "not-an-address";
  EXPECT(crm_field_store(c, alice, C_EMAIL, (const uint8_t *)bad_email, strlen(bad_email), rec_email + 0, 16), CRM_INVALID_DATA);
  EXPECT(crm_field_store(c, alice, 99, (const uint8_t *)email, strlen(email), rec_email, 16), CRM_INVALID_ARGUMENT);
  const char *name = "Alice C";
  EXPECT(crm_field_store(c, alice, C_NAME, (const uint8_t *)name, strlen(name), rec_name, 16), CRM_OK);
  const char *dev = "{\"model\":\"Pixel\",\"os_version\":\"16\",\"app_version\":\"5.2\",\"screen\":[1080,2424]}";
  EXPECT(crm_field_store(c, alice, C_DEVICE_INFO, (const uint8_t *)dev, strlen(dev), rec_dev, 16), CRM_OK);

  /* Happy path: grant + read. */
  char token[512]; size_t tlen = 0; char out[512]; size_t olen = 0;
  EXPECT(crm_custodian_grant(c, alice, P_NOTIFICATION, (const uint8_t *)"mailer", 6, (uint8_t *)token, sizeof token, &tlen), CRM_OK);
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_OK);
  CHECK(olen == strlen(email) && memcmp(out, email, olen) == 0);
  size_t need = 0;
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_NOTIFICATION, rec_email, (uint8_t *)out, 4, &need), CRM_BUFFER_TOO_SMALL);
  CHECK(need == strlen(email));
  /* Refusals: a disallowed pair, a cross-purpose token, another subject's grant. */
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_NOTIFICATION, rec_name, (uint8_t *)out, sizeof out, &olen), CRM_PURPOSE_NOT_PERMITTED);
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_ANALYTICS, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_TOKEN_WRONG_PURPOSE);
  char bob_token[512]; size_t blen = 0;
  EXPECT(crm_custodian_grant(c, bob, P_NOTIFICATION, (const uint8_t *)"mailer", 6, (uint8_t *)bob_token, sizeof bob_token, &blen), CRM_OK);
  EXPECT(crm_field_read(c, (uint8_t *)bob_token, blen, P_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &olen), CRM_WRONG_SUBJECT);
  EXPECT(crm_custodian_grant(c, alice, P_OWNER, (const uint8_t *)"x", 1, (uint8_t *)token, sizeof token, &tlen), CRM_PURPOSE_NEEDS_SESSION);
  EXPECT(crm_custodian_grant(c, alice, P_ANALYTICS, (const uint8_t *)"stats", 5, (uint8_t *)token, sizeof token, &tlen), CRM_OK);
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_ANALYTICS, rec_dev, (uint8_t *)out, sizeof out, &olen), CRM_OK);
  CHECK(olen > 0 && memmem(out, olen, "Pixel", 5) != NULL);

  /* Consent: sign-in needs the google link; withdrawing stops the grant at once. */
  EXPECT(crm_custodian_grant(c, alice, P_AUTH, (const uint8_t *)"login", 5, (uint8_t *)token, sizeof token, &tlen), CRM_NO_CONSENT);
  EXPECT(crm_consent_give(c, alice, S_GOOGLE), CRM_OK);
  EXPECT(crm_consent_give(c, alice, 77), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_store(c, alice, C_GOOGLE, (const uint8_t *)"g-77", 4, rec_google, 16), CRM_OK);
  EXPECT(crm_custodian_grant(c, alice, P_AUTH, (const uint8_t *)"login", 5, (uint8_t *)token, sizeof token, &tlen), CRM_OK);
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_AUTH, rec_google, (uint8_t *)out, sizeof out, &olen), CRM_OK);
  EXPECT(crm_consent_withdraw(c, alice, S_GOOGLE), CRM_OK);
  EXPECT(crm_consent_withdraw(c, alice, S_GOOGLE), CRM_NO_CONSENT);
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_AUTH, rec_google, (uint8_t *)out, sizeof out, &olen), CRM_CONSENT_WITHDRAWN);

  /* Zoom: conference only with the link and a user request; owner cannot read the token. */
  uint8_t session[16], request[16];
  EXPECT(crm_subject_new(session, 16), CRM_OK);
  EXPECT(crm_subject_new(request, 16), CRM_OK);
  EXPECT(crm_grant_issue_conference(c, alice, session, request, (uint8_t *)token, sizeof token, &tlen), CRM_NO_CONSENT);
  EXPECT(crm_consent_give(c, alice, S_ZOOM), CRM_OK);
  EXPECT(crm_field_store(c, alice, C_ZOOM_TOKEN, (const uint8_t *)"zoom-secret", 11, rec_token, 16), CRM_OK);
  EXPECT(crm_grant_issue_conference(c, alice, session, request, (uint8_t *)token, sizeof token, &tlen), CRM_OK);
  EXPECT(crm_field_read(c, (uint8_t *)token, tlen, P_CONFERENCE, rec_token, (uint8_t *)out, sizeof out, &olen), CRM_OK);
  CHECK(olen == 11 && memcmp(out, "zoom-secret", 11) == 0);
  char own[512]; size_t own_len = 0;
  EXPECT(crm_grant_issue_owner(c, alice, session, (uint8_t *)own, sizeof own, &own_len), CRM_OK);
  EXPECT(crm_field_read(c, (uint8_t *)own, own_len, P_OWNER, rec_token, (uint8_t *)out, sizeof out, &olen), CRM_PURPOSE_NOT_PERMITTED);
  EXPECT(crm_field_read(c, (uint8_t *)own, own_len, P_OWNER, rec_name, (uint8_t *)out, sizeof out, &olen), CRM_OK);

  /* Export for the owner only. */
  char json[8192]; size_t jlen = 0;
  EXPECT(crm_export_json(c, (uint8_t *)own, own_len, (uint8_t *)json, sizeof json, &jlen), CRM_OK);
  CHECK(jlen > 0 && memmem(json, jlen, "alice.c@example.com", 19) != NULL);
  EXPECT(crm_export_json(c, (uint8_t *)bob_token, blen, (uint8_t *)json, sizeof json, &jlen), CRM_TOKEN_WRONG_PURPOSE);

  /* Retention sweep, audit verify, erasure. */
  uint64_t checked = 0, deleted = 0, ledger = 0, audit = 0, erased = 0;
  EXPECT(crm_retention_sweep(c, &checked, &deleted), CRM_OK);
  CHECK(checked >= 4 && deleted == 0);
  EXPECT(crm_retention_sweep(c, NULL, &deleted), CRM_NULL_PARAMETER);
  EXPECT(crm_audit_verify(c, &ledger, &audit), CRM_OK);
  CHECK(ledger == 3 && audit > ledger); /* give google, withdraw google, give zoom */
  EXPECT(crm_erase(c, alice, &erased), CRM_OK);
  CHECK(erased >= 4);
  EXPECT(crm_field_read(c, (uint8_t *)own, own_len, P_OWNER, rec_name, (uint8_t *)out, sizeof out, &olen), CRM_ERASED);
  EXPECT(crm_field_store(c, alice, C_NAME, (const uint8_t *)name, strlen(name), rec_name, 16), CRM_ERASED);

  crm_custodian_free(c);
  EXPECT(crm_subject_register(c, bob, 16), CRM_INVALID_HANDLE);
  crm_custodian_free(c);
  crm_custodian_free(NULL);
}

int main(int argc, char **argv) {
  test_messages();
  test_policy();
  test_issuer_and_grants();
  if (argc > 1) test_custodian(argv[1]);
  printf("c tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
