/*
 * cidr: whether an IP address is in a list of networks ("127.0.0.0/8 ::1
 * 10.0.0.0/24"), for endpoints only operators may call.  IPv4 and IPv6; an
 * address without a prefix length is a host.  Nothing allocates.
 */
#ifndef TODO_CIDR_H
#define TODO_CIDR_H

/* 1 when addr is in one of the networks of list (space or comma separated). */
int cidr_allows(const char *list, const char *addr);

#endif
