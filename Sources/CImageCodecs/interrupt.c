// Stop requests from signals. See ldm_interrupt.h for the contract.
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L // sigaction under -std=c11
#endif

#include "ldm_interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define PATH_CAPACITY 4096

static atomic_int requested = 0;
static atomic_int installed = 0;
// Two buffers: the one being filled is never the one the handler may read (published by `current`).
static char paths[2][PATH_CAPACITY];
static atomic_int next_slot = 0;
static _Atomic(const char *) current = NULL;

static void on_signal(int signo) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&requested, &expected, signo)) return;
    // Second signal: the user insists. Remove the half-written output, then leave immediately.
    const char *path = atomic_load(&current);
    if (path != NULL) unlink(path);
    _exit(128 + signo);
}

void ldm_interrupt_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    // SA_RESTART: a read or write in progress continues after the first signal instead of failing
    // with EINTR, so the image being written is finished (or, on a second signal, removed).
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    // Past a file-size limit (ulimit -f, RLIMIT_FSIZE) the kernel sends SIGXFSZ, whose default
    // action kills the process mid-batch; ignored, the write fails with EFBIG instead, which the
    // atomic writer reports for that one output (nothing partial kept) and the batch goes on.
    signal(SIGXFSZ, SIG_IGN);
    // A parent may start us with these signals blocked (the mask is inherited through fork/exec,
    // e.g. from a test runner's worker thread); blocked, a stop request would never arrive.
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &wanted, NULL);
}

int ldm_interrupt_requested(void) { return atomic_load(&requested); }

void ldm_interrupt_set_temporary(const char *path) {
    if (path == NULL || strlen(path) >= PATH_CAPACITY) {
        atomic_store(&current, NULL);
        return;
    }
    int slot = atomic_fetch_add(&next_slot, 1) & 1;
    // Unpublish first, so a handler running on another thread never reads a half-copied path.
    atomic_store(&current, NULL);
    strcpy(paths[slot], path);
    atomic_store(&current, (const char *)paths[slot]);
}
