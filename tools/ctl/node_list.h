/* node_list.h - printing `dvsctl node list` records (node_list.c). */
#ifndef DVSCTL_NODE_LIST_H
#define DVSCTL_NODE_LIST_H

#include "dvs/dvkd_proto.h"

struct json_object;

void node_list_header(void);
/* One record as a table row. */
void node_list_print(const struct dvkd_node_rec *n);
/* One record as a new JSON object, owned by the caller. */
struct json_object *node_list_json(const struct dvkd_node_rec *n);

#endif
