#!/bin/bash
# sbatch --pv-forward=desktop:PORT examples/pvserver.sbatch (whose one command is
# `srun pvserver --reverse-connection`), then the same with --export=NONE:
#   - sbatch exits 0 and prints `pv-forward: compute nodes reach desktop:PORT through login:LPORT`;
#   - while the job runs exactly one pv-forwarder of the user exists, listening on login:LPORT
#     (the srun inside the job starts no second one), and pvserver is pointed at login:LPORT;
#   - the ParaView client on desktop connects (962 points, server pid != client pid);
#   - the job completes and its forwarder goes away.
set -euo pipefail
. "$(dirname "$0")/../lib/testbed.sh"
. "$(dirname "$0")/../lib/plugintest.sh"
tb_up
pt_init

job_out() { cat "$PT_DIR/job-$1.out" 2>/dev/null; }
job_started_pvserver() {   # JOBID: pvserver printed its URL, or the job is over
    grep -q 'Connection URL' "$PT_DIR/job-$1.out" 2>/dev/null && return 0
    case $(tb_job_state "$1") in PENDING|RUNNING|CONFIGURING|"") return 1 ;; esac
}

run_variant() {   # NAME SBATCH-ARGS...
    local name=$1 port t0 jobid state n urls
    shift
    port=$(pt_port)
    tb_step "$name: sbatch --pv-forward=desktop:$port $* pvserver.sbatch"
    pt_client_start "$name-client" "$port" 90
    t0=$(pt_ms)
    pt_bg login "$name" 60 sbatch --pv-forward="desktop:$port" -o "$PT_DIR/job-%j.out" "$@" pvserver.sbatch
    pt_bg_wait "$name" 60 || tb_fail "$name: sbatch did not return"
    pt_measure "$name: sbatch returned after $(( $(pt_ms) - t0 )) ms, exit $PT_RC;" \
        "live forwarders to desktop:$port right then: $(pt_nforwarders_to "desktop:$port")"
    pt_show "$name"
    tb_assert_eq 0 "$PT_RC" "$name: sbatch exit status"
    jobid=$(pt_out "$name" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
    [ -n "$jobid" ] || tb_fail "$name: no job id in sbatch's output"
    if pt_parse_plugin_line "$name" "desktop:$port"; then
        pt_good "$name: plugin line: via $PT_LHOST:$PT_LPORT${PT_JOB:+ (job $PT_JOB)}"
        pt_check_eq login "$PT_LHOST" "$name: advertised login host"
    else
        pt_bad "$name: no line /$(pt_plugin_line_re "desktop:$port")/ on sbatch's stderr"
    fi

    tb_wait 60 "job $jobid to start pvserver" job_started_pvserver "$jobid" ||
        pt_bad "$name: job $jobid ($(tb_job_state "$jobid")) did not start pvserver within 60 s"
    pt_measure "$name: job $jobid started pvserver $(( $(pt_ms) - t0 )) ms after sbatch was started"
    n=$(pt_nforwarders_to "desktop:$port")
    pt_forwarder_info | sed 's/^/    forwarder: /'
    pt_check_eq 1 "$n" "$name: live pv-forwarder processes of $TB_USER to desktop:$port while job $jobid runs ($(tb_job_state "$jobid"))"
    pt_check_eq 1 "$(pt_nforwarders)" "$name: all live pv-forwarder processes of $TB_USER"
    local listening=0
    if [ -n "$PT_LPORT" ] && tb__port_listening login "$PT_LPORT"; then listening=1; fi
    pt_check_eq 1 "$listening" "$name: something listens on login:${PT_LPORT:-?} while the job runs"

    if [ "$listening" = 1 ]; then
        tb_wait 120 "job $jobid to end" tb__job_ended "$jobid" ||
            pt_bad "$name: job $jobid still $(tb_job_state "$jobid") after 120 s"
    else
        # pvserver would only retry a refused connect for 60 s: nothing can connect, stop now
        pt_bad "$name: the client cannot connect: nothing listens on login:${PT_LPORT:-?} (job $jobid cancelled)"
        grep -q 'Connection refused' <<<"$(job_out "$jobid")" &&
            echo "    note: pvserver in job $jobid: connect to login:${PT_LPORT:-?} refused (see the job output)"
        tb_run login scancel "$jobid" || true
        tb_wait 30 "job $jobid to end" tb__job_ended "$jobid" || true
    fi
    state=$(tb_job_state "$jobid")
    pt_measure "$name: job $jobid ended $(( $(pt_ms) - t0 )) ms after sbatch was started, state $state"
    echo "    [job $jobid output, first and last lines]"
    job_out "$jobid" | pt_tidy | sed -n '1,8p' | sed 's/^/    | /'
    echo "    | ..."
    job_out "$jobid" | pt_tidy | tail -n 8 | sed 's/^/    | /'
    if [ "$listening" = 1 ]; then
        pt_check_eq COMPLETED "$state" "$name: state of job $jobid"
        urls=$(job_out "$jobid" | grep -o "Connection URL: [^ ]*" | sort -u || true)
        pt_check_eq "Connection URL: csrc://login:${PT_LPORT:-?}" "$urls" "$name: where pvserver connected"
        pt_client_check "$name-client" 30 || true
    else
        pt_bg_stop "$name-client"
    fi
    pt_check_no_match 'compute nodes reach' "$(job_out "$jobid")" "$name: the srun inside the job started no forwarder of its own"
    t0=$(pt_ms)
    if pt_wait_no_forwarder 40; then
        pt_good "$name: no forwarder left after job $jobid ended"
        pt_measure "$name: forwarder gone $(( $(pt_ms) - t0 )) ms after the check began (job $jobid over)"
    else
        pt_bad "$name: forwarder still running 40 s after job $jobid ended: $(pt_forwarder_info)"
    fi
}

run_variant sbatch
run_variant export-none --export=NONE
pt_done
