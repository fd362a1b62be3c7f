#!/bin/bash
# Per-job logs in the user's state directory stay bounded (logkeep.h): a live forwarder's log
# and logs written to within the last hour are kept; logs older than 7 days go; of the rest,
# the 50 newest ended logs are kept. Applied by `pv-forwarder --list` and at every forwarder
# start. The directory is filled with made-up logs of gone forwarders (pids above any real
# one here) with set times, next to the log of a live srun job's forwarder made 10 days old:
#   --list: exactly the expected logs stay (the young ones count towards the 50);
#   a new srun's forwarder start: the next surplus goes without a --list;
#   the live forwarder's log stays throughout, and the new forwarder's log after it ended.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
. "$(dirname "$0")/../lib/lifetimetest.sh"
tb_up
lt_init
install -d -o "$TB_USER" -m 0700 "$LT_STATE"
# what earlier tests left goes aside for the test and comes back after it
mkdir -p "$PT_DIR/saved"
find "$LT_STATE" -mindepth 1 -maxdepth 1 -name '*.log' -exec mv -t "$PT_DIR/saved" {} +
# shellcheck disable=SC2016
tb_on_down 'find "$PT_DIR/saved" -mindepth 1 -maxdepth 1 -exec mv -n -t "$LT_STATE" {} + 2>/dev/null; true'

tb_step "a live forwarder whose log is 10 days old"
port=$(lt_port)
lt_start live "$port" 200 srun -N1 -w compute1 sh -c 'while [ ! -e "$0" ]; do sleep 0.2; done' "$PT_DIR/release"
live=$LT_PID
tb_wait 10 "the live forwarder's log" test -e "$LT_STATE/$live.log" || tb_fail "no $LT_STATE/$live.log"

now=$(date +%s)
# mk PID SECONDS-AGO: a made-up log of a gone forwarder
mk() { install -o "$TB_USER" -m 0600 /dev/null "$LT_STATE/$1.log"; touch -d "@$((now - $2))" "$LT_STATE/$1.log"; }
H=3600
for i in $(seq 1 5); do mk $((4100000 + i)) 600; done                      # young: 10 min
for i in $(seq 0 59); do mk $((4100100 + i)) $((2 * H + i * H)); done      # 2 h .. 61 h
for i in $(seq 1 3); do mk $((4100200 + i)) $((8 * 86400)); done           # 8 days
ln -s /dev/null "$LT_STATE/4100300.log"                                    # not a regular file
install -o "$TB_USER" -m 0600 /dev/null "$LT_STATE/notes.txt"              # not a log
touch -d "@$((now - 10 * 86400))" "$LT_STATE/$live.log"

# expect NAME PID...: exactly these logs are there
logs() { (cd "$LT_STATE" && ls -- *.log 2>/dev/null | sed 's/\.log$//' | sort -n | tr '\n' ' '); }
expect() {
    local what=$1
    shift
    pt_check_eq "$(printf '%s\n' "$@" | sort -n | tr '\n' ' ')" "$(logs)" "$what: the logs left"
}
young=$(seq 4100001 4100005)

tb_step "--list"
n0=$(find "$LT_STATE" -name '*.log' | wc -l)
t0=$(lt_ms)
lt_list >/dev/null
pt_measure "--list with $n0 logs: $(( $(lt_ms) - t0 )) ms"
# young 5 + mid 45 (2 h .. 46 h) = 50 ended; 15 older mid and the 3 of 8 days go
expect "after --list" "$live" 4100300 $young $(seq 4100100 4100144)
[ -e "$LT_STATE/notes.txt" ] && pt_good "other files stay" || pt_bad "notes.txt was removed"

tb_step "a new forwarder's start"
for i in $(seq 1 4); do mk $((4100400 + i)) $((90 * 60)); done             # 1.5 h: newer than every mid
port2=$(lt_port)
pt_bg login next 60 srun --pv-forward="desktop:$port2" -N1 -w compute2 true
pt_bg_wait next 60 || pt_bad "the next srun did not end"
pt_check_eq 0 "${PT_RC:-none}" "the next srun's exit status"
nextpid=$(lt_fwd_log_pid "desktop:$port2") || tb_fail "no log of the next srun's forwarder"
tb_wait 10 "the next forwarder to end" tb__pid_gone "$nextpid" || pt_bad "forwarder $nextpid still runs"
# at its start (its own log live): young 5 + new 4 + mid 45 = 54 ended, the 4 oldest mid go
expect "after the next forwarder's start" "$live" "$nextpid" 4100300 $young $(seq 4100401 4100404) $(seq 4100100 4100140)

tb_step "the live forwarder's job ends; its log stays"
touch "$PT_DIR/release"
pt_bg_wait live 60 || pt_bad "srun did not end"
pt_check_eq 0 "${PT_RC:-none}" "srun's exit status"
lt_gone_check live "$(lt_end_ms live)" 2000 "after srun exited" || true
[ -s "$LT_STATE/$live.log" ] && pt_good "the ended forwarder's log $live.log stays (10 days old: it goes at the next look)" ||
    pt_bad "$live.log is gone or empty"
find "$LT_STATE" -mindepth 1 -maxdepth 1 -name '41003*.log' -delete
find "$LT_STATE" -mindepth 1 -maxdepth 1 \( -name '41[0-9][0-9][0-9][0-9][0-9].log' -o -name notes.txt \) -delete
pt_done
