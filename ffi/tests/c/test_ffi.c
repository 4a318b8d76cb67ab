/* C tests of the crm-privacy ABI: the happy path and every refusal, including bad input at
 * the boundary (NULL for every pointer, invalid UTF-8, zero and huge lengths, freed and
 * foreign handles, short buffers). Prints its own pass/fail counts; exits 1 on failure. */
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

int main(void) {
  test_messages();
  test_policy();
  test_issuer_and_grants();
  printf("c tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
