/*
 * node_list.c - `dvsctl node list`: the nodes of the cluster as this
 * node's dvkd sees them (docs/CLUSTER.md).
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "dvs/json_out.h"
#include "node_list.h"

static const char *
state_name(uint32_t s)
{
	switch (s) {
	case DVKD_NODE_MEMBER:
		return "member";
	case DVKD_NODE_UNREACHABLE:
		return "unreachable";
	default:
		return "down";
	}
}

static const char *
link_name(const struct dvkd_node_rec *n)
{
	if (n->flags & DVKD_NODEF_SELF)
		return "self";
	switch (n->link) {
	case DVKD_LINK_CONNECTING:
		return "connecting";
	case DVKD_LINK_UP:
		return "up";
	case DVKD_LINK_REFUSED:
		return "refused";
	default:
		return "none";
	}
}

void
node_list_header(void)
{
	printf("%-5s %-15s %-11s %-10s %-7s %10s %10s %12s %12s\n", "NODE", "ADDRESS",
	       "STATE", "LINK", "QUORUM", "MSGS_OUT", "MSGS_IN", "BYTES_OUT", "BYTES_IN");
}

struct json_object *
node_list_json(const struct dvkd_node_rec *n)
{
	struct json_object *o = json_object_new_object();
	char addr[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = n->addr };

	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	dvs_json_add_int(o, "node", n->node);
	dvs_json_add_str(o, "address", addr);
	dvs_json_add_uint(o, "port", n->port);
	dvs_json_add_str(o, "state", state_name(n->state));
	dvs_json_add_bool(o, "self", n->flags & DVKD_NODEF_SELF);
	dvs_json_add_str(o, "link", link_name(n));
	dvs_json_add_bool(o, "quorate", n->flags & DVKD_NODEF_QUORATE);
	dvs_json_add_uint(o, "ring_id", n->ring_id);
	dvs_json_add_uint(o, "msgs_out", n->msgs_tx);
	dvs_json_add_uint(o, "msgs_in", n->msgs_rx);
	dvs_json_add_uint(o, "bytes_out", n->bytes_tx);
	dvs_json_add_uint(o, "bytes_in", n->bytes_rx);
	dvs_json_add_uint(o, "link_ups", n->link_ups);
	return o;
}

void
node_list_print(const struct dvkd_node_rec *n)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = n->addr };

	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	printf("%-5d %-15s %-11s %-10s %-7s %10llu %10llu %12llu %12llu\n", n->node, addr,
	       state_name(n->state), link_name(n),
	       (n->flags & DVKD_NODEF_QUORATE) ? "yes" : "no",
	       (unsigned long long)n->msgs_tx, (unsigned long long)n->msgs_rx,
	       (unsigned long long)n->bytes_tx, (unsigned long long)n->bytes_rx);
}
