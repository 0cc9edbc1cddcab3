/* run_node.h - `dvsctl run --node N` (run_node.c). */
#ifndef DVSCTL_RUN_NODE_H
#define DVSCTL_RUN_NODE_H

/*
 * Asks dvkd on sock (connected) to run argv on node `node` in DC dc with
 * endpoints lo..hi, copies the program's output to our stdout and stderr,
 * and returns the exit code to use: the program's, 128 + its signal, or
 * 1 (refused), 255 (its node left: what became of it is unknown).
 */
int run_node(int sock, int node, int dc, int lo, int hi, char **argv);

#endif
