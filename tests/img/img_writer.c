/*
 * img_writer - test helper: keeps rewriting random blocks of an image, the
 * way a running VM writes its disk, until it is killed.  The live-mode test
 * stops it with SIGSTOP (a pwrite in progress finishes first) and lets it go
 * on with SIGCONT.
 *
 * usage: img_writer IMAGE BLOCK_SIZE [PAUSE_US]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	unsigned char buf[65536];
	struct stat st;
	unsigned long long nblocks, n = 0;
	size_t bs, i;
	int fd, pause_us;

	if (argc < 3) {
		fprintf(stderr, "usage: img_writer IMAGE BLOCK_SIZE [PAUSE_US]\n");
		return 2;
	}
	bs = (size_t)atoi(argv[2]);
	pause_us = argc > 3 ? atoi(argv[3]) : 1000;
	fd = open(argv[1], O_WRONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || bs == 0 || bs > sizeof(buf)) {
		perror(argv[1]);
		return 1;
	}
	nblocks = (unsigned long long)st.st_size / bs;
	srandom((unsigned)getpid());
	for (;;) {
		unsigned long long b = (unsigned long long)random() % nblocks;

		for (i = 0; i < bs; i++)
			buf[i] = (unsigned char)random();
		if (pwrite(fd, buf, bs, (off_t)(b * bs)) != (ssize_t)bs) {
			perror("pwrite");
			return 1;
		}
		n++;
		usleep((useconds_t)pause_us);
	}
}
