/*
 * inode_table.c - inode numbers, lookup counts and paths of dvs-fuse.
 *
 * Three chained hash indexes over one set of entries: by inode number
 * (every live entry), by (parent, name) and by server node id (only
 * entries still linked in the tree).  All under t->lock; see the header.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inode_table.h"

/* Inode numbers handed out when the node id cannot be used as is. */
#define INO_PRIVATE_BASE (UINT64_C(1) << 62)

struct ino_ent {
	uint64_t ino;
	uint64_t node;
	uint64_t nlookup;
	uint64_t parent; /* inode number of the directory */
	char *name;
	int linked; /* in the name (and, unless alias, node) indexes */
	int alias;  /* another spelling of a name the node has (see
		     * ino_table_add): its own number, not in by_node */
	int *fds;   /* open descriptors of this inode */
	int nfds, cap_fds;
	struct ino_ent *next_ino;
	struct ino_ent *next_name;
	struct ino_ent *next_node;
};

struct ino_table {
	pthread_mutex_t lock; /* protects everything below */
	struct ino_ent **by_ino;
	struct ino_ent **by_name;
	struct ino_ent **by_node;
	size_t nbuckets; /* power of two, same for the three */
	size_t count;
	uint64_t next_private;
	int exact; /* names compare byte for byte (POSIX volumes) */
};

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static uint64_t
name_hash(const struct ino_table *t, uint64_t parent, const char *name)
{
	uint64_t h = UINT64_C(1469598103934665603) ^ mix64(parent);

	for (; *name != '\0'; name++) {
		unsigned char c = (unsigned char)*name;

		/* FAT names are case-insensitive: "A" is the entry "a". */
		if (!t->exact && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= UINT64_C(1099511628211);
	}
	return mix64(h);
}

static int
names_match(const struct ino_table *t, const char *a, const char *b)
{
	return t->exact ? strcmp(a, b) == 0 : strcasecmp(a, b) == 0;
}

static struct ino_ent *
find_ino(struct ino_table *t, uint64_t ino)
{
	struct ino_ent *e = t->by_ino[mix64(ino) & (t->nbuckets - 1)];

	while (e != NULL && e->ino != ino)
		e = e->next_ino;
	return e;
}

/* The entry of (parent, name): the one spelt exactly so if there is one,
 * else one that matches ignoring case. */
static struct ino_ent *
find_name(struct ino_table *t, uint64_t parent, const char *name)
{
	struct ino_ent *e = t->by_name[name_hash(t, parent, name) & (t->nbuckets - 1)];
	struct ino_ent *ci = NULL;

	for (; e != NULL; e = e->next_name) {
		if (e->parent != parent || !names_match(t, e->name, name))
			continue;
		if (strcmp(e->name, name) == 0)
			return e;
		if (ci == NULL)
			ci = e;
	}
	return ci;
}

/* Detaches every entry of (parent, name), any case, but keep. */
static void detach(struct ino_table *t, struct ino_ent *e);
static void
detach_names(struct ino_table *t, uint64_t parent, const char *name, struct ino_ent *keep)
{
	struct ino_ent *e = t->by_name[name_hash(t, parent, name) & (t->nbuckets - 1)];
	struct ino_ent *next;

	for (; e != NULL; e = next) {
		next = e->next_name;
		if (e != keep && e->parent == parent && names_match(t, e->name, name))
			detach(t, e);
	}
}

static struct ino_ent *
find_node(struct ino_table *t, uint64_t node)
{
	struct ino_ent *e = t->by_node[mix64(node) & (t->nbuckets - 1)];

	while (e != NULL && e->node != node)
		e = e->next_node;
	return e;
}

static void
link_ino(struct ino_table *t, struct ino_ent *e)
{
	struct ino_ent **b = &t->by_ino[mix64(e->ino) & (t->nbuckets - 1)];

	e->next_ino = *b;
	*b = e;
}

static void
link_names(struct ino_table *t, struct ino_ent *e)
{
	struct ino_ent **b;

	b = &t->by_name[name_hash(t, e->parent, e->name) & (t->nbuckets - 1)];
	e->next_name = *b;
	*b = e;
	e->linked = 1;
	if (e->alias)
		return;
	b = &t->by_node[mix64(e->node) & (t->nbuckets - 1)];
	e->next_node = *b;
	*b = e;
}

static void
unlink_ino(struct ino_table *t, struct ino_ent *e)
{
	struct ino_ent **p = &t->by_ino[mix64(e->ino) & (t->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->next_ino;
	*p = e->next_ino;
}

/* Takes e out of the name and node indexes: it keeps its number only. */
static void
detach(struct ino_table *t, struct ino_ent *e)
{
	struct ino_ent **p;

	if (!e->linked)
		return;
	p = &t->by_name[name_hash(t, e->parent, e->name) & (t->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next_name;
	*p = e->next_name;
	e->linked = 0;
	if (e->alias)
		return;
	p = &t->by_node[mix64(e->node) & (t->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next_node;
	*p = e->next_node;
}

static int
grow(struct ino_table *t)
{
	size_t old_n = t->nbuckets, i;
	struct ino_ent **old = t->by_ino, *e, *next;
	struct ino_ent **a, **b, **c;

	a = calloc(old_n * 2, sizeof(*a));
	b = calloc(old_n * 2, sizeof(*b));
	c = calloc(old_n * 2, sizeof(*c));
	if (a == NULL || b == NULL || c == NULL) {
		free(a);
		free(b);
		free(c);
		return -ENOMEM; /* the table still works, only slower */
	}
	free(t->by_name);
	free(t->by_node);
	t->by_ino = a;
	t->by_name = b;
	t->by_node = c;
	t->nbuckets = old_n * 2;
	for (i = 0; i < old_n; i++) {
		for (e = old[i]; e != NULL; e = next) {
			next = e->next_ino;
			link_ino(t, e);
			if (e->linked)
				link_names(t, e);
		}
	}
	free(old);
	return 0;
}

int
ino_table_new(uint64_t root_node, struct ino_table **out)
{
	struct ino_table *t;
	struct ino_ent *root;

	t = calloc(1, sizeof(*t));
	root = calloc(1, sizeof(*root));
	if (t == NULL || root == NULL)
		goto nomem;
	t->nbuckets = 1024;
	t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
	t->by_name = calloc(t->nbuckets, sizeof(*t->by_name));
	t->by_node = calloc(t->nbuckets, sizeof(*t->by_node));
	root->name = strdup("");
	if (t->by_ino == NULL || t->by_name == NULL || t->by_node == NULL ||
	    root->name == NULL)
		goto nomem;
	pthread_mutex_init(&t->lock, NULL);
	t->next_private = INO_PRIVATE_BASE;
	root->ino = INO_ROOT;
	root->node = root_node;
	root->nlookup = 1;
	root->parent = 0;
	link_ino(t, root);
	/* The root is in the node index so a lookup of ".." style aliases of
	 * the root node never gets a second number. */
	link_names(t, root);
	t->count = 1;
	*out = t;
	return 0;
nomem:
	if (root != NULL)
		free(root->name);
	free(root);
	if (t != NULL) {
		free(t->by_ino);
		free(t->by_name);
		free(t->by_node);
	}
	free(t);
	return -ENOMEM;
}

void
ino_table_case_sensitive(struct ino_table *t)
{
	pthread_mutex_lock(&t->lock);
	t->exact = 1;
	pthread_mutex_unlock(&t->lock);
}

void
ino_table_free(struct ino_table *t)
{
	struct ino_ent *e, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->by_ino[i]; e != NULL; e = next) {
			next = e->next_ino;
			free(e->name);
			free(e->fds);
			free(e);
		}
	}
	free(t->by_ino);
	free(t->by_name);
	free(t->by_node);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint64_t
pick_ino(struct ino_table *t, uint64_t node)
{
	if (node > INO_ROOT && node < INO_PRIVATE_BASE && find_ino(t, node) == NULL)
		return node;
	while (find_ino(t, t->next_private) != NULL)
		t->next_private++;
	return t->next_private++;
}

int
ino_table_add(struct ino_table *t, uint64_t parent, const char *name, uint64_t node,
	      uint64_t *ino)
{
	struct ino_ent *e;
	int r = 0, alias;

	pthread_mutex_lock(&t->lock);
	if (find_ino(t, parent) == NULL) {
		r = -ENOENT;
		goto out;
	}
	/* Entries of this name that mean another file now go. */
	while ((e = find_name(t, parent, name)) != NULL && e->node != node)
		detach(t, e);
	/* Another spelling of a name the kernel already has (Foo / fOO) gets
	 * a number of its own: the kernel turns rename("Foo", "fOO") into
	 * nothing when both names give one inode, and FAT must change the
	 * case.  The entry is an alias: not cached by the kernel and opened
	 * with direct I/O (dfuse.h), so the two inodes never disagree. */
	alias = e != NULL && strcmp(e->name, name) != 0;
	if (e == NULL) {
		/* The same node under an unrelated name (the 8.3 short name
		 * of a long name): the kernel gets the same inode, as for a
		 * hard link, and the entry keeps the name it has. */
		e = find_node(t, node);
	}
	if (e != NULL && !alias) {
		e->nlookup++;
		*ino = e->ino;
		goto out;
	}
	if (t->count >= t->nbuckets * 2)
		(void)grow(t);
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->name = strdup(name)) == NULL) {
		free(e);
		r = -ENOMEM;
		goto out;
	}
	e->node = node;
	e->parent = parent;
	e->nlookup = 1;
	e->alias = alias;
	e->ino = pick_ino(t, node);
	link_ino(t, e);
	link_names(t, e);
	t->count++;
	*ino = e->ino;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void
ino_table_forget(struct ino_table *t, uint64_t ino, uint64_t n)
{
	struct ino_ent *e;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e == NULL || e->ino == INO_ROOT)
		goto out;
	e->nlookup = n >= e->nlookup ? 0 : e->nlookup - n;
	if (e->nlookup > 0)
		goto out;
	detach(t, e);
	unlink_ino(t, e);
	t->count--;
	free(e->name);
	free(e->fds);
	free(e);
out:
	pthread_mutex_unlock(&t->lock);
}

/* Builds the path of e backwards from the end of buf; t->lock held. */
static int
build_path(struct ino_table *t, struct ino_ent *e, const char *child, char *buf,
	   size_t len)
{
	size_t pos = len, n;
	int depth = 0;

	if (len == 0)
		return -ENAMETOOLONG;
	buf[--pos] = '\0';
	if (child != NULL) {
		n = strlen(child);
		if (n + 1 > pos)
			return -ENAMETOOLONG;
		pos -= n;
		memcpy(buf + pos, child, n);
		buf[--pos] = '/';
	}
	while (e->ino != INO_ROOT) {
		if (!e->linked || ++depth > 4096)
			return -ENOENT;
		n = strlen(e->name);
		if (n + 1 > pos)
			return -ENAMETOOLONG;
		pos -= n;
		memcpy(buf + pos, e->name, n);
		buf[--pos] = '/';
		e = find_ino(t, e->parent);
		if (e == NULL)
			return -ENOENT;
	}
	if (pos == len - 1) /* the root itself */
		buf[--pos] = '/';
	n = len - pos;
	memmove(buf, buf + pos, n);
	return (int)(n - 1);
}

int
ino_table_path(struct ino_table *t, uint64_t ino, char *buf, size_t len)
{
	struct ino_ent *e;
	int r;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	r = e == NULL ? -ENOENT : build_path(t, e, NULL, buf, len);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
ino_table_child_path(struct ino_table *t, uint64_t parent, const char *name, char *buf,
		     size_t len)
{
	struct ino_ent *e;
	int r;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, parent);
	r = e == NULL ? -ENOENT : build_path(t, e, name, buf, len);
	pthread_mutex_unlock(&t->lock);
	return r;
}

uint64_t
ino_table_parent(struct ino_table *t, uint64_t ino)
{
	struct ino_ent *e;
	uint64_t p = INO_ROOT;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e != NULL && e->ino != INO_ROOT && e->linked)
		p = e->parent;
	pthread_mutex_unlock(&t->lock);
	return p;
}

int
ino_table_node(struct ino_table *t, uint64_t ino, uint64_t *node)
{
	struct ino_ent *e;
	int r = -ENOENT;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e != NULL) {
		*node = e->node;
		r = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

void
ino_table_unlinked(struct ino_table *t, uint64_t parent, const char *name)
{
	pthread_mutex_lock(&t->lock);
	detach_names(t, parent, name, NULL); /* every spelling */
	pthread_mutex_unlock(&t->lock);
}

int
ino_table_renamed(struct ino_table *t, uint64_t parent, const char *name,
		  uint64_t newparent, const char *newname, uint64_t new_node)
{
	struct ino_ent *e, *victim;
	char *dup;
	int r = 0;

	dup = strdup(newname);
	if (dup == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&t->lock);
	e = find_name(t, parent, name);
	/* What held the new name (any spelling but the moving entry, as in
	 * a case-only rename) and the other spellings of the old one go. */
	detach_names(t, newparent, newname, e);
	detach_names(t, parent, name, e);
	if (e == NULL) {
		free(dup);
		goto out; /* never looked up: nothing to move */
	}
	detach(t, e);
	e->alias = 0; /* the one name of its node now */
	/* A stale entry still indexed under the new node id goes. */
	victim = find_node(t, new_node);
	if (victim != NULL && victim->ino != INO_ROOT)
		detach(t, victim);
	free(e->name);
	e->name = dup;
	e->parent = newparent;
	e->node = new_node;
	link_names(t, e);
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
ino_table_alias_of(struct ino_table *t, uint64_t ino, uint64_t *primary)
{
	struct ino_ent *e, *p;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e != NULL && e->alias) {
		r = 1;
		p = e->linked ? find_node(t, e->node) : NULL;
		*primary = p != NULL ? p->ino : 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
ino_table_opened(struct ino_table *t, uint64_t ino, int fd)
{
	struct ino_ent *e;
	int *n, r = 0;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e == NULL)
		goto out;
	if (e->nfds == e->cap_fds) {
		n = realloc(e->fds,
			    (size_t)(e->cap_fds ? e->cap_fds * 2 : 2) * sizeof(*n));
		if (n == NULL) {
			r = -ENOMEM;
			goto out;
		}
		e->fds = n;
		e->cap_fds = e->cap_fds ? e->cap_fds * 2 : 2;
	}
	e->fds[e->nfds++] = fd;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void
ino_table_closed(struct ino_table *t, uint64_t ino, int fd)
{
	struct ino_ent *e;
	int i;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	for (i = 0; e != NULL && i < e->nfds; i++) {
		if (e->fds[i] == fd) {
			e->fds[i] = e->fds[--e->nfds];
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

int
ino_table_open_fd(struct ino_table *t, uint64_t ino)
{
	struct ino_ent *e;
	int fd = -1;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e != NULL && e->nfds > 0)
		fd = e->fds[0];
	pthread_mutex_unlock(&t->lock);
	return fd;
}

size_t
ino_table_count(struct ino_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
