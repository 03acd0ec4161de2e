#!/bin/bash
# run.sh MODE(bpf|user|haproxy) SECS: churn under perf on CPU 1
B=/work/main/.output/bench
mode=$1; secs=${2:-5}
taskset -c 0 $B/echosrv --timeout 900 > echo.out 2>echo.err &
EP=$!
sleep 0.3
eport=$(awk '/listening/{print $2}' echo.out)
port=$((20000 + RANDOM % 1000))
cat > p.cfg <<CFG
global
    maxconn 9000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend fe_bench
    bind 127.0.0.1:$port
    default_backend be_echo
backend be_echo
    balance roundrobin
    server echo 127.0.0.1:$eport
CFG
case $mode in
bpf) taskset -c 1 ${WSPLICE:-/tmp/wsplice-head} -f p.cfg > px.log 2>&1 & ;;
user) taskset -c 1 ${WSPLICE:-/tmp/wsplice-head} -dS -f p.cfg > px.log 2>&1 & ;;
haproxy) sed -i 's/^global/global\n    nbthread 1/' p.cfg; taskset -c 1 /usr/sbin/haproxy -f p.cfg > px.log 2>&1 & ;;
esac
PP=$!
sleep 0.5
taskset -c 0 $B/loadgen churn --port $port --proxy-pid $PP --echo-pid $EP --threads 4 --warmup 1 --duration $((secs+2)) > lg.out 2>&1 &
LG=$!
sleep 1.5
perf record -e cpu-clock -a -g -o perfa-$mode.data -- sleep $secs 2>/dev/null >/dev/null
wait $LG
kill $PP $EP; wait 2>/dev/null
python3 -c "import json;d=json.load(open('lg.out'));print('$mode', d['tunnels_per_s'], d['cpu']['proxy'], d['cpu']['cpu1'])" 2>/dev/null || cat lg.out
