/*
 * cidr.c: address-in-network checks with inet_pton.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses an address into 16 bytes (IPv4 as ::ffff:a.b.c.d); its family's bit count. */
static int parse(const char *s, unsigned char out[16])
{
    unsigned char v4[4];

    if (inet_pton(AF_INET6, s, out) == 1)
        return 128;
    if (inet_pton(AF_INET, s, v4) != 1)
        return -1;
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
    return 32;
}

static int in_net(const unsigned char a[16], const unsigned char net[16], int bits)
{
    int full = bits / 8, rest = bits % 8;

    if (memcmp(a, net, (size_t)full) != 0)
        return 0;
    return rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int cidr_allows(const char *list, const char *addr)
{
    unsigned char a[16], net[16];
    char item[64], *slash, *end;
    const char *s;
    size_t n;
    long len;
    int bits;

    if (list == NULL || addr == NULL || parse(addr, a) < 0)
        return 0;
    for (s = list; *s != '\0'; s += n) {
        s += strspn(s, " ,\t");
        n = strcspn(s, " ,\t");
        if (n == 0 || n >= sizeof item)
            continue;
        memcpy(item, s, n);
        item[n] = '\0';
        slash = strchr(item, '/');
        if (slash != NULL)
            *slash = '\0';
        if ((bits = parse(item, net)) < 0)
            continue;
        len = bits;
        if (slash != NULL) {
            len = strtol(slash + 1, &end, 10);
            if (*end != '\0' || len < 0 || len > bits)
                continue;
        }
        /* An IPv4 prefix counts within the mapped ::ffff:0:0/96. */
        if (in_net(a, net, (int)len + (128 - bits)))
            return 1;
    }
    return 0;
}
