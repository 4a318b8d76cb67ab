/* The smallest program: open a custodian and free it. Issue 17 found 48 bytes "possibly
 * lost" here (the async runtime's thread-locals on the caller's thread); under
 * `valgrind --leak-check=full --error-exitcode=1` it must exit 0. It also checks that one
 * secret handed in for two key roles is refused (docs/keys.md, "One secret, one role"). */
#include <string.h>
#include "crm_privacy.h"

int main(int argc, char **argv) {
  static const uint8_t kek[32] = "k3Qz9!Lm#Vp2Xr7Tb0Yw5Nc8Hd1Jf4Gs";
  static const uint8_t idx[32] = "i8Wq2@Ne$Ru6Zt1Ya4Kc9Mf0Lh3Pj7Ds";
  static const uint8_t tok[32] = "t5Gh8#Kp1Zq4Wm7!Rv0Xb3Nd6Lc9Fs2J";
  if (argc < 2) return 2;
  crm_custodian *c = NULL;
  /* The KEK's secret again as the token key: refused, nothing opened. */
  if (crm_custodian_open((const uint8_t *)argv[1], strlen(argv[1]), kek, 32, idx, 32, kek, 32,
                         NULL, &c) != CRM_INVALID_ARGUMENT || c != NULL)
    return 3;
  crm_result r = crm_custodian_open((const uint8_t *)argv[1], strlen(argv[1]), kek, 32, idx, 32,
                                    tok, 32, NULL, &c);
  crm_custodian_free(c);
  return r == CRM_OK ? 0 : 1;
}
