#!/bin/sh
# The tests of tests/peers/ run this inside `unshare --pid --fork
# --kill-child -m -n`: a network namespace with loopback only, where tinydns serves
# tests/peers/data on 127.0.0.2:53 and dnscache resolves it on
# 127.0.0.53:53. Once dnscache answers, it runs the test's script, then
# stops both servers. The namespaces vanish with this script.
# usage: djbdns.sh SCRIPT
set -eu
dir=@DIR@
ip link set lo up
env - PATH="$PATH" IP=127.0.0.2 ROOT="$dir/tinydns" UID=0 GID=0 tinydns >"$dir/tinydns.log" 2>&1 &
tinydns=$!
head -c 128 /dev/urandom |
    env - PATH="$PATH" IP=127.0.0.53 IPSEND=0.0.0.0 CACHESIZE=1000000 ROOT="$dir/dnscache" UID=0 GID=0 \
        dnscache >"$dir/dnscache.log" 2>&1 &
dnscache=$!
# dnsqr waits long for a server that is not there yet: ask only once both
# servers listen.
tries=0
until grep -q '^ *[0-9]*: 0200007F:0035 ' /proc/net/udp &&
    grep -q '^ *[0-9]*: 3500007F:0035 ' /proc/net/udp; do
    tries=$((tries + 1))
    if [ "$tries" -ge 200 ]; then
        echo "djbdns.sh: tinydns and dnscache did not listen within 20 s" >&2
        exit 1
    fi
    sleep 0.1
done
DNSCACHEIP=127.0.0.53 dnsqr a a.ns.rmx.test >/dev/null
status=0
sh "$1" || status=$?
kill "$tinydns" "$dnscache"
wait "$tinydns" "$dnscache" || true
exit "$status"
