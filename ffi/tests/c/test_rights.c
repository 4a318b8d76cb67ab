/* C tests of the functions issue 17 added or pinned down, against SQLite and (when a server
 * is given) PostgreSQL, the way a careless or hostile host calls them: consent with a
 * collection method and evidence, withdrawing twice, restriction and its lift,
 * rectification, custodian revocation of a token, and opening a custodian on PostgreSQL.
 * Every function also gets NULL, a wrong handle, a wrong purpose, withdrawn consent and a
 * restricted subject. Usage: test_rights <sqlite-path> [<postgres-url> <schema>].
 * Prints its own pass/fail counts; exits 1 on failure. */
#define _GNU_SOURCE
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
#define S(x) (const uint8_t *)(x), strlen(x)
#define T(tok) (const uint8_t *)(tok).b, (tok).n

typedef struct { char b[1024]; size_t n; } token;

static const int64_t T0 = 1800000000;
static const uint8_t KEK[32] = "k3Qz9!Lm#Vp2Xr7Tb0Yw5Nc8Hd1Jf4Gs";
static const uint8_t IDX[32] = "i8Wq2@Ne$Ru6Zt1Ya4Kc9Mf0Lh3Pj7Ds";
static const uint8_t TOK[32] = "t5Gh8#Kp1Zq4Wm7!Rv0Xb3Nd6Lc9Fs2J";

/* The same scenario on any store: `c` is open, `auth` its authenticator, `clock` a handle of
 * another type (for the wrong-handle cases). */
static void scenario(crm_custodian *c, crm_authenticator *auth, crm_clock *clock) {
  const crm_custodian *wrong = (const crm_custodian *)clock;
  uint8_t alice[16], bob[16], sa[16], sb[16], rec_email[16], rec_google[16], consent[16];
  EXPECT(crm_subject_register(c, alice, 16), CRM_OK);
  EXPECT(crm_subject_register(c, bob, 16), CRM_OK);
  crm_subject_new(sa, 16); crm_subject_new(sb, 16);
  EXPECT(crm_authenticator_insert(auth, S("alice"), alice, sa, T0, T0 + 3600), CRM_OK);
  EXPECT(crm_authenticator_insert(auth, S("bob"), bob, sb, T0, T0 + 3600), CRM_OK);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_EMAIL, S("alice@example.com"), rec_email, 16), CRM_OK);

  /* --- crm_consent_give_with: method and evidence. --- */
  const char *ev = "signup-form v7, request 8812";
  EXPECT(crm_consent_give_with(NULL, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION, S(ev), consent, 16), CRM_NULL_PARAMETER);
  EXPECT(crm_consent_give_with(wrong, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION, S(ev), consent, 16), CRM_INVALID_HANDLE);
  EXPECT(crm_consent_give_with(c, NULL, 5, CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION, S(ev), consent, 16), CRM_NULL_PARAMETER);
  EXPECT(crm_consent_give_with(c, S("mallory"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION, S(ev), consent, 16), CRM_CREDENTIAL_REJECTED);
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, 0, S(ev), consent, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, 77, S(ev), consent, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_give_with(c, S("alice"), 0, CRM_COLLECTION_API, S(ev), consent, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_POLICY_VERSION, CRM_COLLECTION_API, S(ev), consent, 16), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_API, NULL, 9, consent, 16), CRM_NULL_PARAMETER);
  const uint8_t bad_utf8[] = {0x61, 0xff, 0xfe};
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_API, bad_utf8, 3, consent, 16), CRM_INVALID_UTF8);
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_API, (const uint8_t *)ev, (size_t)1 << 40, consent, 16), CRM_INVALID_ARGUMENT);
  /* A short id buffer is refused before anything is recorded. */
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_API, S(ev), consent, 8), CRM_BUFFER_TOO_SMALL);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_GOOGLE_LINK), CRM_CONSENT_NOT_IN_FORCE);
  /* None of the refused calls let the kind be collected. */
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_GOOGLE_ACCOUNT_ID, S("g-1"), rec_google, 16), CRM_COLLECTION_WITHOUT_CONSENT);
  memset(consent, 0, sizeof consent);
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION, S(ev), consent, 16), CRM_OK);
  static const uint8_t zero[16];
  CHECK(memcmp(consent, zero, 16) != 0);
  /* Evidence and the id are optional. */
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_COOKIES, CRM_COLLECTION_IMPORT, NULL, 0, NULL, 0), CRM_OK);
  EXPECT(crm_consent_give_with(c, S("bob"), CRM_SCOPE_ZOOM_LINK, CRM_COLLECTION_API, NULL, 0, NULL, 0), CRM_OK);
  EXPECT(crm_field_store(c, alice, CRM_CATEGORY_GOOGLE_ACCOUNT_ID, S("g-1"), rec_google, 16), CRM_OK);

  /* --- Tokens used below. --- */
  token login, mail, own, bob_own;
  EXPECT(crm_custodian_grant(c, alice, CRM_PURPOSE_AUTHENTICATION, S("login"), (uint8_t *)login.b, sizeof login.b, &login.n), CRM_OK);
  EXPECT(crm_custodian_grant(c, alice, CRM_PURPOSE_NOTIFICATION, S("mailer"), (uint8_t *)mail.b, sizeof mail.b, &mail.n), CRM_OK);
  EXPECT(crm_grant_owner(c, S("alice"), (uint8_t *)own.b, sizeof own.b, &own.n), CRM_OK);
  EXPECT(crm_grant_owner(c, S("bob"), (uint8_t *)bob_own.b, sizeof bob_own.b, &bob_own.n), CRM_OK);
  char out[512]; size_t n = 0;
  EXPECT(crm_field_read(c, T(login), CRM_PURPOSE_AUTHENTICATION, rec_google, (uint8_t *)out, sizeof out, &n), CRM_OK);
  CHECK(n == 3 && memcmp(out, "g-1", 3) == 0);

  /* --- Rectify: owner only; wrong purpose, other subject, bad input. --- */
  EXPECT(crm_field_rectify(NULL, T(own), rec_email, CRM_CATEGORY_EMAIL, S("a2@example.com")), CRM_NULL_PARAMETER);
  EXPECT(crm_field_rectify(wrong, T(own), rec_email, CRM_CATEGORY_EMAIL, S("a2@example.com")), CRM_INVALID_HANDLE);
  EXPECT(crm_field_rectify(c, T(own), NULL, CRM_CATEGORY_EMAIL, S("a2@example.com")), CRM_NULL_PARAMETER);
  EXPECT(crm_field_rectify(c, T(mail), rec_email, CRM_CATEGORY_EMAIL, S("a2@example.com")), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_field_rectify(c, T(bob_own), rec_email, CRM_CATEGORY_EMAIL, S("a2@example.com")), CRM_NOT_VISIBLE);
  EXPECT(crm_field_rectify(c, T(own), rec_email, CRM_CATEGORY_PHONE, S("+4915112345678")), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_rectify(c, T(own), rec_email, 0, S("a2@example.com")), CRM_INVALID_ARGUMENT);
  EXPECT(crm_field_rectify(c, T(own), rec_email, CRM_CATEGORY_EMAIL, S("a2@example.com")), CRM_OK);
  EXPECT(crm_field_read(c, T(mail), CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &n), CRM_OK);
  CHECK(n == 14 && memcmp(out, "a2@example.com", 14) == 0);

  /* --- Restrict / lift: NULL, wrong handle, then every path of a restricted subject. --- */
  EXPECT(crm_restrict(NULL, alice), CRM_NULL_PARAMETER);
  EXPECT(crm_restrict(wrong, alice), CRM_INVALID_HANDLE);
  EXPECT(crm_restrict(c, NULL), CRM_NULL_PARAMETER);
  uint8_t stranger[16]; crm_subject_new(stranger, 16);
  /* Restricting an id with no data only narrows processing: accepted, like a withdrawal. */
  EXPECT(crm_restrict(c, stranger), CRM_OK);
  EXPECT(crm_restrict(c, alice), CRM_OK);
  EXPECT(crm_field_read(c, T(mail), CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &n), CRM_RESTRICTED);
  EXPECT(crm_field_read(c, T(login), CRM_PURPOSE_AUTHENTICATION, rec_google, (uint8_t *)out, sizeof out, &n), CRM_RESTRICTED);
  token t2;
  EXPECT(crm_custodian_grant(c, alice, CRM_PURPOSE_NOTIFICATION, S("mailer"), (uint8_t *)t2.b, sizeof t2.b, &t2.n), CRM_RESTRICTED);
  /* The subject's own access is not restricted: rectifying settles a contested value. */
  EXPECT(crm_field_rectify(c, T(own), rec_email, CRM_CATEGORY_EMAIL, S("a3@example.com")), CRM_OK);
  EXPECT(crm_field_read(c, T(own), CRM_PURPOSE_OWNER_ACCESS, rec_email, (uint8_t *)out, sizeof out, &n), CRM_OK);
  CHECK(n == 14 && memcmp(out, "a3@example.com", 14) == 0);
  EXPECT(crm_lift_restriction(NULL, alice), CRM_NULL_PARAMETER);
  EXPECT(crm_lift_restriction(wrong, alice), CRM_INVALID_HANDLE);
  EXPECT(crm_lift_restriction(c, alice), CRM_OK);
  EXPECT(crm_field_read(c, T(mail), CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &n), CRM_OK);

  /* --- Withdraw: grants stop, dependent data is deleted, twice is a distinct code. --- */
  EXPECT(crm_consent_withdraw(NULL, alice, CRM_SCOPE_GOOGLE_LINK), CRM_NULL_PARAMETER);
  EXPECT(crm_consent_withdraw(wrong, alice, CRM_SCOPE_GOOGLE_LINK), CRM_INVALID_HANDLE);
  EXPECT(crm_consent_withdraw(c, NULL, CRM_SCOPE_GOOGLE_LINK), CRM_NULL_PARAMETER);
  EXPECT(crm_consent_withdraw(c, alice, 9999), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_POLICY_VERSION), CRM_INVALID_ARGUMENT);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_GOOGLE_LINK), CRM_OK);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_GOOGLE_LINK), CRM_CONSENT_NOT_IN_FORCE);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_ZOOM_LINK), CRM_CONSENT_NOT_IN_FORCE); /* never given */
  EXPECT(crm_consent_withdraw(c, bob, CRM_SCOPE_ZOOM_LINK), CRM_OK); /* bob's is independent */
  EXPECT(crm_field_read(c, T(login), CRM_PURPOSE_AUTHENTICATION, rec_google, (uint8_t *)out, sizeof out, &n), CRM_CONSENT_WITHDRAWN);
  EXPECT(crm_field_rectify(c, T(own), rec_google, CRM_CATEGORY_GOOGLE_ACCOUNT_ID, S("g-2")), CRM_NOT_VISIBLE); /* deleted with the consent */
  EXPECT(crm_custodian_grant(c, alice, CRM_PURPOSE_AUTHENTICATION, S("login"), (uint8_t *)t2.b, sizeof t2.b, &t2.n), CRM_NO_CONSENT);
  /* Given again (a new consent), it works again; withdrawing it is a fresh first time. */
  EXPECT(crm_consent_give_with(c, S("alice"), CRM_SCOPE_GOOGLE_LINK, CRM_COLLECTION_UI_ACTION, S(ev), NULL, 0), CRM_OK);
  EXPECT(crm_consent_withdraw(c, alice, CRM_SCOPE_GOOGLE_LINK), CRM_OK);

  /* --- Custodian revocation of a token: NULL, wrong handle, wrong purpose, twice. --- */
  EXPECT(crm_grant_revoke(NULL, T(mail), CRM_PURPOSE_NOTIFICATION), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_revoke(wrong, T(mail), CRM_PURPOSE_NOTIFICATION), CRM_INVALID_HANDLE);
  EXPECT(crm_grant_revoke(c, NULL, 10, CRM_PURPOSE_NOTIFICATION), CRM_NULL_PARAMETER);
  EXPECT(crm_grant_revoke(c, T(mail), 0), CRM_INVALID_ARGUMENT);
  EXPECT(crm_grant_revoke(c, T(mail), CRM_PURPOSE_OWNER_ACCESS), CRM_TOKEN_WRONG_PURPOSE);
  EXPECT(crm_grant_revoke(c, S("g1.not-a-token"), CRM_PURPOSE_NOTIFICATION), CRM_TOKEN_MALFORMED);
  EXPECT(crm_grant_revoke(c, T(mail), CRM_PURPOSE_NOTIFICATION), CRM_OK);
  EXPECT(crm_field_read(c, T(mail), CRM_PURPOSE_NOTIFICATION, rec_email, (uint8_t *)out, sizeof out, &n), CRM_GRANT_REVOKED);
  EXPECT(crm_grant_revoke(c, T(mail), CRM_PURPOSE_NOTIFICATION), CRM_OK); /* idempotent */
  EXPECT(crm_grant_revoke(c, T(own), CRM_PURPOSE_OWNER_ACCESS), CRM_OK);
  EXPECT(crm_export_json(c, T(own), (uint8_t *)out, sizeof out, &n), CRM_GRANT_REVOKED);
  EXPECT(crm_field_read(c, T(bob_own), CRM_PURPOSE_OWNER_ACCESS, rec_email, (uint8_t *)out, sizeof out, &n), CRM_NOT_VISIBLE);
}

/* A custodian with a manual clock and an in-memory authenticator, opened by `open`. */
static void run_sqlite(const char *path) {
  crm_clock *clock = NULL; crm_authenticator *auth = NULL; crm_custodian_config *cfg = NULL;
  crm_custodian *c = NULL;
  EXPECT(crm_clock_new_manual(T0 + 5, &clock), CRM_OK);
  EXPECT(crm_authenticator_new(&auth), CRM_OK);
  EXPECT(crm_custodian_config_new(&cfg), CRM_OK);
  EXPECT(crm_custodian_config_set_clock(cfg, clock), CRM_OK);
  EXPECT(crm_custodian_config_set_authenticator(cfg, auth), CRM_OK);
  EXPECT(crm_custodian_open(S(path), KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_OK);
  crm_custodian_config_free(cfg);
  if (c) scenario(c, auth, clock);
  crm_custodian_free(c);
  crm_authenticator_free(auth);
  crm_clock_free(clock);
}

static void run_postgres(const char *url, const char *schema) {
  crm_clock *clock = NULL; crm_authenticator *auth = NULL; crm_custodian_config *cfg = NULL;
  crm_custodian *c = NULL;
  EXPECT(crm_clock_new_manual(T0 + 5, &clock), CRM_OK);
  EXPECT(crm_authenticator_new(&auth), CRM_OK);
  EXPECT(crm_custodian_config_new(&cfg), CRM_OK);
  EXPECT(crm_custodian_config_set_clock(cfg, clock), CRM_OK);
  EXPECT(crm_custodian_config_set_authenticator(cfg, auth), CRM_OK);
  /* Hostile arguments: refused before any connection is made. */
  EXPECT(crm_custodian_open_postgres(NULL, 5, S(schema), 2, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_NULL_PARAMETER);
  EXPECT(crm_custodian_open_postgres(S(url), NULL, 3, 2, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_NULL_PARAMETER);
  EXPECT(crm_custodian_open_postgres(S(url), S(schema), 2, KEK, 32, IDX, 32, TOK, 32, cfg, NULL), CRM_NULL_PARAMETER);
  EXPECT(crm_custodian_open_postgres(S(url), S(schema), 0, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_INVALID_ARGUMENT);
  EXPECT(crm_custodian_open_postgres(S(url), S(schema), 65, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_INVALID_ARGUMENT);
  EXPECT(crm_custodian_open_postgres(S(url), S(schema), 2, KEK, 31, IDX, 32, TOK, 32, cfg, &c), CRM_KEY_TOO_SHORT);
  EXPECT(crm_custodian_open_postgres(S(url), S(schema), 2, KEK, 32, IDX, 32, TOK, 32, (const crm_custodian_config *)clock, &c), CRM_INVALID_HANDLE);
  const uint8_t bad_utf8[] = {0x70, 0xff};
  EXPECT(crm_custodian_open_postgres(bad_utf8, 2, S(schema), 2, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_INVALID_UTF8);
  EXPECT(crm_custodian_open_postgres(S("not a url"), S(schema), 2, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_STORE_ERROR);
  EXPECT(crm_custodian_open_postgres(S(url), S("Robert'); DROP TABLE x;--"), 2, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_STORE_ERROR);
  CHECK(c == NULL);
  EXPECT(crm_custodian_open_postgres(S(url), S(schema), 2, KEK, 32, IDX, 32, TOK, 32, cfg, &c), CRM_OK);
  crm_custodian_config_free(cfg);
  if (c) scenario(c, auth, clock);
  /* The message of a store error never carries the URL (it may hold a password). */
  uint8_t msg[256]; size_t mlen = 0;
  EXPECT(crm_result_message(CRM_STORE_ERROR, msg, sizeof msg, &mlen), CRM_OK);
  CHECK(memmem(msg, mlen, "postgres", 8) == NULL);
  crm_custodian_free(c);
  EXPECT(crm_subject_register(c, msg, 16), CRM_INVALID_HANDLE);
  crm_authenticator_free(auth);
  crm_clock_free(clock);
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: test_rights <sqlite-path> [<postgres-url> <schema>]\n"); return 2; }
  run_sqlite(argv[1]);
  if (argc >= 4) run_postgres(argv[2], argv[3]);
  else printf("no PostgreSQL url given: PostgreSQL cases skipped\n");
  printf("c tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
