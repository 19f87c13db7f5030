# How cost grows with the log: draws the CSV of `hubsignal-bench scale --csv FILE` into a PNG, one panel per cost,
# both layouts (partitioned: solid, unpartitioned: dashed), the issue's targets as grey lines.
#   gnuplot -e "csv='docs/benchmarks/scale.csv'; png='docs/benchmarks/scale.png'" docs/benchmarks/scale.gnuplot
# (`hubsignal-bench scale --plot FILE.png` runs it.) Debian: apt-get install gnuplot-nox.
if (!exists("csv")) csv = 'docs/benchmarks/scale.csv'
if (!exists("png")) png = 'docs/benchmarks/scale.png'

set terminal pngcairo size 1500,900 font "sans,10"
set output png
set datafile separator ","
set datafile columnheaders
set datafile missing ""
set logscale x 10
set format x "%.0s%c"
set xlabel "events in the log"
set grid
set key top left font ",9"
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 1
set style line 2 lc rgb "#1f77b4" lw 2 pt 6 ps 1 dt 2
set style line 3 lc rgb "#d62728" lw 2 pt 5 ps 1
set style line 4 lc rgb "#d62728" lw 2 pt 4 ps 1 dt 2
set style line 5 lc rgb "#2ca02c" lw 1 pt 9 ps 1
set style line 6 lc rgb "#2ca02c" lw 1 pt 8 ps 1 dt 2
set style line 9 lc rgb "#888888" lw 1 dt 3

part(name) = (strcol("layout") eq "partitioned") ? column(name) : NaN
unpart(name) = (strcol("layout") eq "unpartitioned") ? column(name) : NaN

set multiplot layout 2,3 title "hubsignal-bench scale: cost against the size of the log (solid: partitioned, dashed: unpartitioned)"

set title "append and HTTP ingest (events/s)"
set yrange [0:*]
plot csv using "events":(part("ceiling_rows_per_s")) with linespoints ls 5 title "raw COPY into the log (ceiling)", \
     csv using "events":(unpart("ceiling_rows_per_s")) with linespoints ls 6 notitle, \
     csv using "events":(part("append_events_per_s")) with linespoints ls 1 title "store append", \
     csv using "events":(unpart("append_events_per_s")) with linespoints ls 2 notitle, \
     csv using "events":(part("ingest_events_per_s")) with linespoints ls 3 title "HTTP ingest", \
     csv using "events":(unpart("ingest_events_per_s")) with linespoints ls 4 notitle

set title "store append / ceiling (target ≥ 0.9)"
set yrange [0:1.2]
plot csv using "events":(part("append_ratio")) with linespoints ls 1 title "partitioned", \
     csv using "events":(unpart("append_ratio")) with linespoints ls 2 title "unpartitioned", \
     0.9 with lines ls 9 title "target"

set title "subscriber catch-up and rebuild (events/s)"
set yrange [0:*]
plot csv using "events":(part("catchup_events_per_s")) with linespoints ls 1 title "catch-up", \
     csv using "events":(unpart("catchup_events_per_s")) with linespoints ls 2 notitle, \
     csv using "events":(part("rebuild_events_per_s")) with linespoints ls 3 title "rebuild (whole log)", \
     csv using "events":(unpart("rebuild_events_per_s")) with linespoints ls 4 notitle, \
     150000 with lines ls 9 title "rebuild target"

set title "one contact's history, p99 (ms)"
set yrange [0:*]
plot csv using "events":(part("history_p99_ms")) with linespoints ls 1 title "hubsignal events (scan window 100,000)", \
     csv using "events":(unpart("history_p99_ms")) with linespoints ls 2 notitle, \
     csv using "events":(part("history_stream_p99_ms")) with linespoints ls 3 title "its streams only", \
     csv using "events":(unpart("history_stream_p99_ms")) with linespoints ls 4 notitle, \
     20 with lines ls 9 title "target"

set title "erasure of one person (ms, slowest)"
set logscale y 10
set yrange [*:*]
plot csv using "events":(part("erasure_max_ms")) with linespoints ls 1 title "partitioned", \
     csv using "events":(unpart("erasure_max_ms")) with linespoints ls 2 title "unpartitioned", \
     1000 with lines ls 9 title "target"
unset logscale y

set title "bytes on disk per event (tables and indexes)"
set yrange [0:*]
plot csv using "events":(part("bytes_per_event")) with linespoints ls 1 title "partitioned", \
     csv using "events":(unpart("bytes_per_event")) with linespoints ls 2 title "unpartitioned"

unset multiplot
