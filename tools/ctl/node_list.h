/* node_list.h - printing `dvsctl node list` records (node_list.c). */
#ifndef DVSCTL_NODE_LIST_H
#define DVSCTL_NODE_LIST_H

#include "dvs/dvkd_proto.h"

void node_list_header(void);
/* One record, as a table row or (json) a JSON object without a newline. */
void node_list_print(const struct dvkd_node_rec *n, int json);

#endif
