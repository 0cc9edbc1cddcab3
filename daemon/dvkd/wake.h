/*
 * wake.h - futex wake-ups from dvkd, deferred while the event loop holds
 * the remote lock.
 *
 * A FUTEX_WAKE that wakes a process on another CPU costs the waker an
 * inter-processor interrupt (measured with perf on the 2-vCPU VM: a
 * quarter of dvkd's time under 16 clients, in try_to_wake_up).  Made
 * inside a batch of frames under dvkd_rlock(), those costs held the lock
 * against the pump thread, which then slept on the lock and needed one
 * more wake-up.  So during a batch (dvkd_wake_defer) the value of the
 * word changes at once, which is what a waiter about to sleep checks,
 * and only the system calls wait for dvkd_wake_flush, after the lock is
 * released.  A word unmapped meanwhile makes the call fail (EFAULT),
 * harmlessly.  Per thread: the pump thread never defers.
 */
#ifndef DVKD_WAKE_H
#define DVKD_WAKE_H

#include <stdatomic.h>
#include <stdint.h>

/* Bumps *f and wakes its waiters (now, or at the flush). */
void dvkd_wake(_Atomic uint32_t *f);
/* Wakes the waiters of *f, already bumped by the caller. */
void dvkd_wake_call(_Atomic uint32_t *f);
/* From here to dvkd_wake_flush, this thread's wake-ups wait. */
void dvkd_wake_defer(void);
/* Makes the wake-ups that waited; deferring ends. */
void dvkd_wake_flush(void);

#endif
