#!/bin/sh
# djbdns_found_through_resolv_conf of tests/peers/rmxsmtpd.rs, run by
# djbdns.sh: rmxsmtpd, with no DNSCACHEIP, finds dnscache through
# /etc/resolv.conf, for each line "N CLIENT [OPTION...]" of @DIR@/cases.
# N.out and N.err keep what it wrote.
set -eu
mount --bind @DIR@/resolv.conf /etc/resolv.conf
while read -r n client options; do
    # $options is split into words on purpose.
    # shellcheck disable=SC2086
    env - PATH="$PATH" TCPREMOTEIP="$client" @BIN@ -t 0 $options \
        sh -c 'echo "exec RMXRESULT=$RMXRESULT"' \
        </dev/null >"@DIR@/$n.out" 2>"@DIR@/$n.err"
done <@DIR@/cases
