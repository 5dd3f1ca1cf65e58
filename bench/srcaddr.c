/*
 * srcaddr: an LD_PRELOAD shim for bench/postfix. Every IPv4 socket that
 * connects is first bound to the next address of RMX_SOURCES, written
 * A.B.C.D/COUNT (COUNT addresses from A.B.C.D up, round robin; loopback
 * only), so that the sessions of Postfix's smtp-source, which has no option
 * for its source address, come from one chosen client address or from a
 * new one each time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static unsigned next;

int connect(int fd, const struct sockaddr *to, socklen_t len)
{
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    const char *spec = getenv("RMX_SOURCES");
    char base[32];
    unsigned count;
    struct in_addr first;

    if (!real_connect)
        real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (spec && to->sa_family == AF_INET
        && sscanf(spec, "%31[0-9.]/%u", base, &count) == 2 && count > 0
        && inet_pton(AF_INET, base, &first) == 1 && ntohl(first.s_addr) >> 24 == 127) {
        struct sockaddr_in from = { .sin_family = AF_INET };
        from.sin_addr.s_addr = htonl(ntohl(first.s_addr) + next++ % count);
        if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0)
            perror("srcaddr: bind");
    }
    return real_connect(fd, to, len);
}
