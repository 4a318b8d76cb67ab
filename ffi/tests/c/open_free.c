/* The smallest program: open a custodian and free it. Issue 17 found 48 bytes "possibly
 * lost" here (the async runtime's thread-locals on the caller's thread); under
 * `valgrind --leak-check=full --error-exitcode=1` it must exit 0. */
#include <string.h>
#include "crm_privacy.h"

int main(int argc, char **argv) {
  static const uint8_t key[32] = "k3Qz9!Lm#Vp2Xr7Tb0Yw5Nc8Hd1Jf4Gs";
  if (argc < 2) return 2;
  crm_custodian *c = NULL;
  crm_result r = crm_custodian_open((const uint8_t *)argv[1], strlen(argv[1]), key, 32, key, 32,
                                    key, 32, NULL, &c);
  crm_custodian_free(c);
  return r == CRM_OK ? 0 : 1;
}
