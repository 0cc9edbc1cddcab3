/*
 * thread_safety.h - clang's thread-safety analysis (-Wthread-safety, on
 * in every clang build of the tree) for the pthread locks of dvkd, dvs-fs
 * and the FAT engine.  Under gcc every macro expands to nothing.
 *
 * A lock the analysis knows is a dvs_mutex_t (or dvs_rwlock_t): the same
 * type as pthread's, so pthread_mutex_init, pthread_cond_wait and the
 * rest take it unchanged, but taken and released through the wrappers
 * below, which tell clang what they do.  clang then checks, function by
 * function, that every lock taken is released on every path, that none
 * is released twice, that a function marked DVS_REQUIRES(l) is only
 * called with l held, and that a global marked DVS_GUARDED_BY(l) is only
 * touched with l held.
 *
 * What it cannot check in C (clang 14): a struct member cannot name the
 * lock beside it (guarded_by(lock) inside a struct is C++ only), so the
 * fields a lock protects are still said in a comment on the lock; the
 * functions that work on them say DVS_REQUIRES.
 */
#ifndef DVS_THREAD_SAFETY_H
#define DVS_THREAD_SAFETY_H

#include <pthread.h>
#include <stdbool.h>

#if defined(__clang__)
#define DVS_TSA(x) __attribute__((x))
#else
#define DVS_TSA(x)
#endif

#define DVS_CAPABILITY(name) DVS_TSA(capability(name))
#define DVS_GUARDED_BY(l) DVS_TSA(guarded_by(l))
#define DVS_REQUIRES(...) DVS_TSA(requires_capability(__VA_ARGS__))
#define DVS_REQUIRES_SHARED(...) DVS_TSA(requires_shared_capability(__VA_ARGS__))
#define DVS_ACQUIRE(...) DVS_TSA(acquire_capability(__VA_ARGS__))
#define DVS_ACQUIRE_SHARED(...) DVS_TSA(acquire_shared_capability(__VA_ARGS__))
#define DVS_RELEASE(...) DVS_TSA(release_capability(__VA_ARGS__))
#define DVS_RELEASE_SHARED(...) DVS_TSA(release_shared_capability(__VA_ARGS__))
#define DVS_RELEASE_GENERIC(...) DVS_TSA(release_generic_capability(__VA_ARGS__))
#define DVS_TRY_ACQUIRE(...) DVS_TSA(try_acquire_capability(__VA_ARGS__))
#define DVS_EXCLUDES(...) DVS_TSA(locks_excluded(__VA_ARGS__))
/* On a function that states (without taking it) that a lock is held:
 * for callbacks, which a library calls while their caller holds it. */
#define DVS_ASSERT_HELD(...) DVS_TSA(assert_capability(__VA_ARGS__))
/* Only on the wrappers below, whose bodies call unannotated pthread. */
#define DVS_NO_TSA DVS_TSA(no_thread_safety_analysis)

typedef pthread_mutex_t dvs_mutex_t DVS_CAPABILITY("mutex");
typedef pthread_rwlock_t dvs_rwlock_t DVS_CAPABILITY("rwlock");

static inline void dvs_mutex_lock(dvs_mutex_t *m) DVS_ACQUIRE(*m) DVS_NO_TSA;
static inline void dvs_mutex_unlock(dvs_mutex_t *m) DVS_RELEASE(*m) DVS_NO_TSA;
/* true when m was free and is now held. */
static inline bool dvs_mutex_trylock(dvs_mutex_t *m) DVS_TRY_ACQUIRE(true, *m) DVS_NO_TSA;
static inline void dvs_rw_rdlock(dvs_rwlock_t *l) DVS_ACQUIRE_SHARED(*l) DVS_NO_TSA;
static inline void dvs_rw_wrlock(dvs_rwlock_t *l) DVS_ACQUIRE(*l) DVS_NO_TSA;
/* Releases a read or a write hold. */
static inline void dvs_rw_unlock(dvs_rwlock_t *l) DVS_RELEASE_GENERIC(*l) DVS_NO_TSA;

static inline void
dvs_mutex_lock(dvs_mutex_t *m)
{
	(void)pthread_mutex_lock(m);
}

static inline void
dvs_mutex_unlock(dvs_mutex_t *m)
{
	(void)pthread_mutex_unlock(m);
}

static inline bool
dvs_mutex_trylock(dvs_mutex_t *m)
{
	return pthread_mutex_trylock(m) == 0;
}

static inline void
dvs_rw_rdlock(dvs_rwlock_t *l)
{
	(void)pthread_rwlock_rdlock(l);
}

static inline void
dvs_rw_wrlock(dvs_rwlock_t *l)
{
	(void)pthread_rwlock_wrlock(l);
}

static inline void
dvs_rw_unlock(dvs_rwlock_t *l)
{
	(void)pthread_rwlock_unlock(l);
}

#endif
