// A persistent thread team: one clip's forward pass runs on every lane at once, with barriers between
// its steps, instead of a Dispatch call per step. Waiting spins for a short while (a barrier inside a
// forward pass is usually met within microseconds), then sleeps on a futex, so an idle team costs no CPU.
#include "CKernels.h"
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <sched.h>
#endif

// Inside a job (a barrier, the caller waiting for the lanes): ~7 µs of `pause` (24 ns each here) before
// sleeping. Spinning 2,000 (~50 µs) bridged more barriers, but at c=1 over HTTP about one forward in 240
// then took over 10 ms (2-3x the median), its lanes asleep at nearly every barrier; with 300, about one in
// 1,200, in-process medians level (docs/PERFORMANCE.md, 2026-12-03, "Shorter spins inside a job").
#define SB_BARRIER_SPINS 300
// Between jobs a lane sleeps almost at once (~5 µs). Spinning ~100 µs after every forward, it held a vCPU while
// the answer was written and the next request parsed: at c=1 over HTTP (default logging) one request in 100
// took 6.3-11.3 ms against a 4.5 ms median; sleeping at once, 5.5-5.8 ms. Medians and in-process batches are
// unchanged (docs/PERFORMANCE.md, 2026-12-03). The next job's futex wake costs ~0.1 ms on an idle vCPU.
#define SB_JOB_SPINS 100

struct sb_team {
    int lanes;
    pthread_t *threads;
    sb_task task;
    void *context;
    _Atomic unsigned job;        // bumped to start a job
    _Atomic unsigned remaining;  // lanes 1... still running the job
    _Atomic unsigned arrived;    // lanes at the barrier
    _Atomic unsigned round;      // bumped when every lane has arrived
    _Atomic int sleepers;        // threads inside futex_wait (wakers skip the syscall when 0)
    _Atomic int stop;
};

typedef struct {
    sb_team *team;
    int lane;
} sb_worker;

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static void sleep_while(sb_team *team, _Atomic unsigned *word, unsigned value) {
#if defined(__linux__)
    atomic_fetch_add(&team->sleepers, 1);
    while (atomic_load(word) == value) syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
    atomic_fetch_sub(&team->sleepers, 1);
#else
    (void)team;
    while (atomic_load(word) == value) sched_yield();
#endif
}

// Returns once *word != value: `spins` checks, then sleep.
static void wait_while(sb_team *team, _Atomic unsigned *word, unsigned value, int spins) {
    for (int i = 0; i < spins; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != value) return;
        relax();
    }
    sleep_while(team, word, value);
}

static void wake(sb_team *team, _Atomic unsigned *word) {
#if defined(__linux__)
    // seq_cst store before this load, seq_cst increment of sleepers before the waiter's futex check:
    // either the waker sees the sleeper or the sleeper's futex sees the new value.
    if (atomic_load(&team->sleepers) > 0) syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)team;
    (void)word;
#endif
}

static void *worker_main(void *argument) {
    sb_worker worker = *(sb_worker *)argument;
    free(argument);
    sb_team *team = worker.team;
    unsigned seen = 0;
    for (;;) {
        wait_while(team, &team->job, seen, SB_JOB_SPINS);
        seen = atomic_load(&team->job);
        if (atomic_load(&team->stop)) return NULL;
        team->task(team->context, worker.lane, team->lanes);
        if (atomic_fetch_sub(&team->remaining, 1) == 1) wake(team, &team->remaining);
    }
}

sb_team *sb_team_create(int lanes) {
    sb_team *team = calloc(1, sizeof(sb_team));
    if (!team) return NULL;
    team->lanes = lanes < 1 ? 1 : lanes;
    team->threads = calloc((size_t)team->lanes, sizeof(pthread_t));
    if (!team->threads) {
        free(team);
        return NULL;
    }
    for (int lane = 1; lane < team->lanes; lane++) {
        sb_worker *worker = malloc(sizeof(sb_worker));
        if (!worker) abort();
        worker->team = team;
        worker->lane = lane;
        if (pthread_create(&team->threads[lane], NULL, worker_main, worker) != 0) abort();
    }
    return team;
}

void sb_team_destroy(sb_team *team) {
    if (!team) return;
    atomic_store(&team->stop, 1);
    atomic_fetch_add(&team->job, 1);
    wake(team, &team->job);
    for (int lane = 1; lane < team->lanes; lane++) pthread_join(team->threads[lane], NULL);
    free(team->threads);
    free(team);
}

int sb_team_lanes(const sb_team *team) { return team->lanes; }

void sb_team_run(sb_team *team, sb_task task, void *context) {
    if (team->lanes == 1) {
        task(context, 0, 1);
        return;
    }
    team->task = task;
    team->context = context;
    atomic_store(&team->remaining, (unsigned)(team->lanes - 1));
    atomic_fetch_add(&team->job, 1);  // publishes task and context
    wake(team, &team->job);
    task(context, 0, team->lanes);
    for (;;) {
        unsigned left = atomic_load(&team->remaining);
        if (left == 0) break;
        wait_while(team, &team->remaining, left, SB_BARRIER_SPINS);
    }
}

void sb_team_barrier(sb_team *team) {
    if (team->lanes == 1) return;
    unsigned round = atomic_load(&team->round);
    if (atomic_fetch_add(&team->arrived, 1) == (unsigned)team->lanes - 1) {
        atomic_store(&team->arrived, 0);
        atomic_fetch_add(&team->round, 1);
        wake(team, &team->round);
    } else {
        wait_while(team, &team->round, round, SB_BARRIER_SPINS);
    }
}
