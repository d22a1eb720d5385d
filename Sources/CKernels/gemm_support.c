// What the packed GEMM (gemm_body.h) needs besides its per-path bodies: the packed weight's layout, made once
// at load, and each thread's scratch for a copy of a block of A.
#include "CKernels.h"
#include "gemm_blocking.h"
#include <pthread.h>
#include <stdlib.h>

long sb_gemm_packed_floats(long inner, long outer) { return (outer + 15) / 16 * 16 * inner; }

void sb_gemm_pack(float *packed, const float *weight, long inner, long outer) {
    for (long p = 0; p < (outer + 15) / 16; p++)
        for (long k = 0; k < inner; k++)
            for (long j = 0; j < 16; j++) {
                const long column = p * 16 + j;
                packed[(p * inner + k) * 16 + j] = column < outer ? weight[column * inner + k] : 0.0f;
            }
}

// Made on a thread's first GEMM, freed when the thread ends.
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_ready = 0;
static void make_scratch_key(void) { scratch_ready = pthread_key_create(&scratch_key, free) == 0; }

static int scratch_allowed = 1;
void sb_gemm_allow_scratch(int allowed) { scratch_allowed = allowed; }

float *sb_gemm_scratch(void) {
    if (!scratch_allowed) return NULL;
    pthread_once(&scratch_once, make_scratch_key);
    if (!scratch_ready) return NULL;
    float *scratch = pthread_getspecific(scratch_key);
    if (!scratch) {
        scratch = aligned_alloc(64, SB_GEMM_MC * SB_GEMM_KC * sizeof(float));
        if (scratch && pthread_setspecific(scratch_key, scratch) != 0) {
            free(scratch);
            scratch = NULL;
        }
    }
    return scratch;
}
