// The kernels for any CPU of the build's architecture (x86-64: SSE2): the fallback path.
#define SB_FN(name) sb_##name##_baseline
#include "kernels_body.h"
