/* sink: the program behind the connection server in the throughput test. It
 * writes one greeting line to the client (fd 1) and exits, which closes the
 * connection. The same sink stands behind rmxsmtpd and rblsmtpd. */
#include <unistd.h>

int main(void) {
    static const char line[] = "220 sink\r\n";
    return write(1, line, sizeof line - 1) == sizeof line - 1 ? 0 : 111;
}
