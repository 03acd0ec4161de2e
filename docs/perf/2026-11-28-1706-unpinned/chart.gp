set terminal pngcairo size 1400,800 font ",10"
set output "/work/main/docs/perf/2026-11-28-1706-unpinned/chart.png"
set title "wsplice vs HAProxy 2.6 (nbthread 1): advantage over HAProxy, higher is better (medians; a missing bar: no numbers; capped at 64x)"
set bmargin 12
set rmargin 12
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y 2
set yrange [0.0625:64]
set ylabel "x HAProxy (HAProxy = 1; costs inverted)"
set xtics rotate by -35 left noenhanced ("many: message RTT p50" 0, "many: message RTT p99" 1, "many: proxy process CPU" 2, "many: machine CPU, total" 3, "idle: memory per tunnel" 4, "pingpong: round trip p50" 5, "pingpong: round trip p99" 6, "pingpong: added p50 over direct" 7, "pingpong: added p99 over direct" 8, "bulk: throughput each way" 9, "bulk: machine CPU per GiB" 10, "bulk: proxy CPU per GiB" 11, "churn: new tunnels per second" 12, "churn: tunnel lifetime p99" 13)
set key top left
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black"
plot "/work/main/docs/perf/2026-11-28-1706-unpinned/chart.dat" using 2 title "wsplice BPF" lc rgb "#1f77b4", \
     "" using 3 title "wsplice -dS" lc rgb "#ff7f0e", \
     "" using 4 title "direct (no proxy)" lc rgb "#7f7f7f", \
     "" using ($0):5 with points pt 7 ps 1.5 lc rgb "#d62728" title "project target (BPF)"
