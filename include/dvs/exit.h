/*
 * exit.h - exit statuses that mean the same in every DVS program.  The
 * table users read is docs/EXIT-CODES.md; each manual page points to it.
 * A program uses only the ones that can happen to it.
 */
#ifndef DVS_EXIT_H
#define DVS_EXIT_H

enum dvs_exit {
	DVS_EXIT_OK = 0,
	DVS_EXIT_FAILURE = 1,	  /* failed; the message says why */
	DVS_EXIT_USAGE = 2,	  /* bad command line; nothing was done */
	DVS_EXIT_UNREACHABLE = 3, /* dvkd, dvs-fs or a remote server cannot be
				     reached, or the connection was lost */
	DVS_EXIT_AUTH = 4,	  /* authentication failed */
	DVS_EXIT_CORRUPT = 5,	  /* corrupt index, stream or data */
	DVS_EXIT_LOCAL_IO = 6,	  /* local I/O error (e.g. disk full) */
	DVS_EXIT_TIMEOUT = 7,	  /* something did not happen in time */
};

#endif
