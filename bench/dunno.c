/* bench/dunno.c: the least a Postfix policy service can do, for the control
 * row of bench/postfix. It reads requests on fd 0 (name=value lines ended
 * by an empty line) and answers each with "action=DUNNO" and an empty line
 * on fd 1, until end of input: no parsing, no lookup, no log. The time
 * Postfix spends with it is the policy protocol's own cost. */
#include <unistd.h>

int main(void) {
    static const char reply[] = "action=DUNNO\n\n";
    char buf[65536];
    int newlines = 0; /* newlines in a row, a CR between them ignored */
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0)
            return 0;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                if (++newlines == 2) {
                    if (write(1, reply, sizeof reply - 1) != sizeof reply - 1)
                        return 111;
                    newlines = 0;
                }
            } else if (buf[i] != '\r') {
                newlines = 0;
            }
        }
    }
}
