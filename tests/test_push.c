#include "harness.h"
static void placeholder(ps_ctx *ctx) { (void)ctx; }
static const struct CMUnitTest tests[] = { CLAUSE("X-0", "placeholder", placeholder) };
int main(void) { ps_harness_init(); return PS_RUN("X", tests); }
