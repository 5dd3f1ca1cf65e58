/* blackhole: binds a UDP socket on a loopback address and port, and never
 * answers: a dead resolver that drops every query (no ICMP error comes back,
 * as it would from a port where nothing listens). Runs until killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "usage: blackhole 127.x.y.z PORT\n");
        return 100;
    }
    sa.sin_port = htons(atoi(argv[2]));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("blackhole");
        return 111;
    }
    for (;;) {
        char buf[2048];
        if (recv(fd, buf, sizeof buf, 0) < 0) pause();
    }
}
