/*
 * session.c - client sessions and their descriptor tables.
 *
 * A session holds one reference per binding and one per request in
 * flight; when the last goes (FS_BYE of the last binding, or the DVK's
 * peer-gone event for it) its descriptors are closed and it is freed.
 * Descriptors are counted the same way, so a close racing with a read on
 * the same descriptor from another thread of the client is safe: the file
 * is closed when the read is done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dvs/log.h"
#include "ext.h"
#include "fs.h"

/*
 * A session's token is what keeps one client from joining another's
 * session, so it must be unguessable: without the kernel's random source
 * the session is refused rather than given a token from the clock.
 */
static int
new_token(uint64_t *t)
{
	ssize_t n = getrandom(t, sizeof(*t), 0);
	int e = errno;

	if (n == (ssize_t)sizeof(*t))
		return 0;
	dvs_err("getrandom: %s; refusing the session (no unguessable token)",
		n < 0 ? strerror(e) : "short read");
	return n < 0 && (e == EAGAIN || e == EINTR) ? -EAGAIN : -EIO;
}

int
fs_session_new(struct fs_volume *v, dvk_ep_t first, struct fs_session **out)
{
	struct fs_session *s;
	uint64_t token;
	int rc;

	*out = NULL;
	rc = new_token(&token);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->refs, 1); /* the caller's */
	atomic_init(&s->requests, 0);
	s->vol = v;
	s->first_ep = first;
	s->token = token;
	dvs_mutex_lock(&fs_srv.lock);
	if (fs_srv.nsessions >= FS_MAX_SESSIONS) {
		dvs_mutex_unlock(&fs_srv.lock);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return -EAGAIN;
	}
	s->id = ++fs_srv.next_id;
	if (s->id == 0)
		s->id = ++fs_srv.next_id;
	s->next = fs_srv.sessions;
	fs_srv.sessions = s;
	fs_srv.nsessions++;
	dvs_mutex_unlock(&fs_srv.lock);
	*out = s;
	return 0;
}

struct fs_session *
fs_session_find(uint32_t id, uint64_t token)
{
	struct fs_session *s;

	dvs_mutex_lock(&fs_srv.lock);
	for (s = fs_srv.sessions; s != NULL; s = s->next) {
		if (s->id == id) {
			/* Only a live session can be joined. */
			if (s->token != token || atomic_load(&s->refs) == 0)
				s = NULL;
			else
				fs_session_ref(s);
			break;
		}
	}
	dvs_mutex_unlock(&fs_srv.lock);
	return s;
}

void
fs_session_ref(struct fs_session *s)
{
	atomic_fetch_add(&s->refs, 1);
}

static void
fd_close(struct fs_fd *f)
{
	int rc;

	if (f->xv != NULL) {
		ext_fd_release(f->xv, f->xino);
	} else {
		fat_dir_close(f->dir);
		rc = fat_close(f->file);
		if (rc < 0)
			dvs_warn("closing a descriptor: %s", fat_strerror(rc));
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void
fs_fd_put(struct fs_fd *f)
{
	if (f != NULL && atomic_fetch_sub(&f->refs, 1) == 1)
		fd_close(f);
}

static void
session_free(struct fs_session *s)
{
	struct fs_session **pp;
	int i, n = 0;

	dvs_mutex_lock(&fs_srv.lock);
	for (pp = &fs_srv.sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			fs_srv.nsessions--;
			break;
		}
	}
	dvs_mutex_unlock(&fs_srv.lock);
	for (i = 0; i < FS_FD_MAX; i++) {
		if (s->fds[i] != NULL) {
			fs_fd_put(s->fds[i]);
			n++;
		}
	}
	dvs_info("session %u ended (%d descriptors closed)", s->id, n);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void
fs_session_put(struct fs_session *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		session_free(s);
}

int
fs_session_add_fd(struct fs_session *s, struct fs_fd *f)
{
	int i;

	dvs_mutex_lock(&s->lock);
	for (i = 0; i < FS_FD_MAX; i++) {
		if (s->fds[i] == NULL) {
			s->fds[i] = f;
			s->nfds++;
			dvs_mutex_unlock(&s->lock);
			return i;
		}
	}
	dvs_mutex_unlock(&s->lock);
	return -EMFILE;
}

struct fs_fd *
fs_session_take_fd(struct fs_session *s, int fd)
{
	struct fs_fd *f = NULL;

	if (fd < 0 || fd >= FS_FD_MAX)
		return NULL;
	dvs_mutex_lock(&s->lock);
	f = s->fds[fd];
	if (f != NULL) {
		s->fds[fd] = NULL;
		s->nfds--;
	}
	dvs_mutex_unlock(&s->lock);
	return f;
}

struct fs_fd *
fs_fd_get(struct fs_session *s, int fd)
{
	struct fs_fd *f = NULL;

	if (fd < 0 || fd >= FS_FD_MAX)
		return NULL;
	dvs_mutex_lock(&s->lock);
	f = s->fds[fd];
	if (f != NULL)
		atomic_fetch_add(&f->refs, 1);
	dvs_mutex_unlock(&s->lock);
	return f;
}

void
fs_sessions_shutdown(void)
{
	struct fs_session *s;
	struct fs_fd *f;
	int i;

	/* Workers have stopped: no request is in flight.  Close every
	 * descriptor so the volumes can be unmounted; sessions themselves
	 * go with the bindings' references at exit. */
	dvs_mutex_lock(&fs_srv.lock);
	for (s = fs_srv.sessions; s != NULL; s = s->next) {
		for (i = 0; i < FS_FD_MAX; i++) {
			dvs_mutex_lock(&s->lock);
			f = s->fds[i];
			s->fds[i] = NULL;
			if (f != NULL)
				s->nfds--;
			dvs_mutex_unlock(&s->lock);
			fs_fd_put(f);
		}
	}
	dvs_mutex_unlock(&fs_srv.lock);
}
