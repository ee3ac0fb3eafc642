// Ctrl-C and termination handling for long batches.
//
// Why C: a signal handler may only touch lock-free atomics and call async-signal-safe functions
// (unlink, _exit). Swift globals are lazily initialised behind a lock, so the handler and the state
// it reads live here.
//
// Behaviour: the first SIGINT/SIGTERM/SIGHUP only records the request; the program checks
// ldm_interrupt_requested() at safe points (between sampling steps and between images), stops, and
// exits 130. A second signal removes the temporary file registered as "in progress" (the output
// being written at that moment) and exits at once with 128 + signal number.
#ifndef LDM_INTERRUPT_H
#define LDM_INTERRUPT_H

#ifdef __cplusplus
extern "C" {
#endif

/// Installs the handlers for SIGINT, SIGTERM and SIGHUP. Idempotent.
void ldm_interrupt_install(void);

/// The signal number of the first stop request, or 0 when none arrived.
int ldm_interrupt_requested(void);

/// Registers the temporary file being written now (copied), or clears it with NULL. Paths longer
/// than 4095 bytes are not registered (a second signal then leaves that temporary file behind).
void ldm_interrupt_set_temporary(const char *path);

#ifdef __cplusplus
}
#endif

#endif
