/*
 * node_list.c - `dvsctl node list`: the nodes of the cluster as this
 * node's dvkd sees them (docs/CLUSTER.md).
 */
#include <arpa/inet.h>
#include <stdio.h>

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

void
node_list_print(const struct dvkd_node_rec *n, int json)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = n->addr };

	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	if (json) {
		printf("{\"node\": %d, \"address\": \"%s\", \"port\": %u, \"state\": \"%s\", "
		       "\"self\": %s, \"link\": \"%s\", \"quorate\": %s, \"ring_id\": %llu, "
		       "\"msgs_out\": %llu, \"msgs_in\": %llu, \"bytes_out\": %llu, "
		       "\"bytes_in\": %llu, \"link_ups\": %llu}",
		       n->node, addr, n->port, state_name(n->state),
		       (n->flags & DVKD_NODEF_SELF) ? "true" : "false", link_name(n),
		       (n->flags & DVKD_NODEF_QUORATE) ? "true" : "false",
		       (unsigned long long)n->ring_id, (unsigned long long)n->msgs_tx,
		       (unsigned long long)n->msgs_rx, (unsigned long long)n->bytes_tx,
		       (unsigned long long)n->bytes_rx, (unsigned long long)n->link_ups);
		return;
	}
	printf("%-5d %-15s %-11s %-10s %-7s %10llu %10llu %12llu %12llu\n", n->node, addr,
	       state_name(n->state), link_name(n),
	       (n->flags & DVKD_NODEF_QUORATE) ? "yes" : "no",
	       (unsigned long long)n->msgs_tx, (unsigned long long)n->msgs_rx,
	       (unsigned long long)n->bytes_tx, (unsigned long long)n->bytes_rx);
}
