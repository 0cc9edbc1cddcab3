/*
 * volume.c - the volumes dvs-fs serves: an image file (scenario A1) or a
 * dvs-vdd endpoint (A2), mounted read-write (dirty flag set) until the
 * clean stop unmounts them (flag cleared).  A device that holds an ext
 * superblock is served through libext2fs (ext.h), any other as FAT.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dvs/imagelock.h"
#include "dvs/log.h"
#include "ext.h"
#include "fs.h"

static int
volume_mount(struct fs_volume *v, size_t cache_bytes)
{
	struct fat_mount_opts mo;
	struct fat_statfs st;
	int rc;

	if (ext_probe(v->dev))
		return ext_volume_mount(v, v->dev);

	memset(&mo, 0, sizeof(mo));
	mo.read_only = v->read_only;
	mo.cache_bytes = cache_bytes;
	rc = fat_mount(v->dev, &mo, &v->vol);
	if (rc < 0) {
		dvs_err("volume %s (%s): cannot mount: %s", v->name, v->source,
			fat_strerror(rc));
		return rc;
	}
	rc = fat_statfs(v->vol, &st);
	v->cluster = rc == 0 ? st.cluster_size : 4096;
	dvs_info("volume %s: FAT%d, %u-byte clusters, %s", v->name,
		 rc == 0 ? st.fat_type : 0, v->cluster,
		 v->read_only ? "read-only" : "read-write");
	return 0;
}

static struct fs_volume *
volume_slot(const char *name)
{
	struct fs_volume *v;

	if (fs_srv.nvols >= FS_MAX_VOLUMES) {
		dvs_err("at most %d volumes", FS_MAX_VOLUMES);
		return NULL;
	}
	if (strlen(name) == 0 || strlen(name) > FS_VOLNAME_MAX) {
		dvs_err("volume name '%s': 1 to %d bytes", name, FS_VOLNAME_MAX);
		return NULL;
	}
	if (fs_volume_find(name, strlen(name)) != NULL) {
		dvs_err("volume name '%s' given twice", name);
		return NULL;
	}
	v = &fs_srv.vols[fs_srv.nvols];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	return v;
}

int
fs_volume_add_image(const char *name, const char *path, int read_only, size_t cache_bytes)
{
	struct fat_image_opts io;
	struct fs_volume *v;
	int rc;

	v = volume_slot(name);
	if (v == NULL)
		return -EINVAL;
	snprintf(v->source, sizeof(v->source), "%s", path);
	v->read_only = read_only;
	memset(&io, 0, sizeof(io));
	io.read_only = read_only;
	rc = fat_image_open(path, &io, &v->dev);
	if (rc == -EBUSY) {
		/* Two servers writing one volume lose files: refuse, and say
		 * who has it (a hard link or a second dvs-fs started by hand
		 * reaches the same lock). */
		char msg[512];

		fprintf(stderr, "dvs-fs: %s\n", dvs_image_busy_msg(path, msg, sizeof(msg)));
		return rc;
	}
	if (rc < 0) {
		dvs_err("image %s: %s", path, fat_strerror(rc));
		return rc;
	}
	rc = volume_mount(v, cache_bytes);
	if (rc < 0) {
		fat_blkdev_free(v->dev);
		v->dev = NULL;
		return rc;
	}
	fs_srv.nvols++;
	return 0;
}

int
fs_volume_add_vdd(const char *name, dvk_ep_t ep, int read_only, size_t cache_bytes,
		  struct dvk *h)
{
	struct fs_volume *v;
	int rc;

	v = volume_slot(name);
	if (v == NULL)
		return -EINVAL;
	snprintf(v->source, sizeof(v->source), "vdd:%d", (int)ep);
	v->read_only = read_only;
	rc = fs_vdd_open(ep, h, read_only, &v->dev);
	if (rc < 0) {
		dvs_err("dvs-vdd at endpoint %d: %s", (int)ep, dvk_strerror(rc));
		return rc;
	}
	v->dev_is_vdd = 1;
	rc = volume_mount(v, cache_bytes);
	if (rc < 0) {
		fs_vdd_close(v->dev);
		v->dev = NULL;
		return rc;
	}
	fs_srv.nvols++;
	return 0;
}

struct fs_volume *
fs_volume_find(const char *name, size_t len)
{
	int i;

	if (len == 0)
		return fs_srv.nvols > 0 ? &fs_srv.vols[0] : NULL;
	for (i = 0; i < fs_srv.nvols; i++) {
		if (strlen(fs_srv.vols[i].name) == len &&
		    memcmp(fs_srv.vols[i].name, name, len) == 0)
			return &fs_srv.vols[i];
	}
	return NULL;
}

int
fs_volumes_unmount(void)
{
	struct fs_volume *v;
	int i, rc, ret = 0;

	for (i = 0; i < fs_srv.nvols; i++) {
		v = &fs_srv.vols[i];
		if (v->ext != NULL) {
			rc = ext_volume_unmount(v);
		} else {
			rc = fat_unmount(v->vol);
			if (rc < 0)
				dvs_err("volume %s: final flush failed: %s (run fsck.fat)",
					v->name, fat_strerror(rc));
		}
		v->vol = NULL;
		if (rc < 0)
			ret = rc;
		else
			dvs_info("volume %s unmounted clean", v->name);
		if (v->dev_is_vdd)
			fs_vdd_close(v->dev);
		else
			fat_blkdev_free(v->dev);
		v->dev = NULL;
	}
	fs_srv.nvols = 0;
	return ret;
}
