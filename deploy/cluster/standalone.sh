#!/usr/bin/env bash
# A local standalone Flink 2.2 session cluster: one JobManager and one TaskManager as separate JVMs, run from the
# distribution layout that `mvn -pl deploy/cluster -am package` assembles from Maven Central jars in
# deploy/cluster/target/flink (flink-dist is not published there, so this script does what its scripts do).
#
# Usage: standalone.sh <command>
#   start                        start a JobManager and one TaskManager, wait until the TaskManager is registered
#   start-taskmanager            start one more TaskManager (e.g. after kill-taskmanager)
#   submit <jar> [args...]       submit a job, detached, with Flink's own CLI; prints the job id on stdout
#   status [jobId]               processes, then jobs; with a job id its task states and checkpoint counts
#   wait-running <jobId> <secs>  wait until the job and every one of its tasks is RUNNING
#   kill-taskmanager [id]        kill -9 the TaskManager(s) this run started (all, or the one with this id)
#   stop                         stop everything this run started (TERM, then KILL after 10 s); idempotent
#   logs                         list the log files
#
# Environment (read by `start`, remembered in the run directory for the other commands):
#   CLUSTER_RUN_DIR        run directory: conf, logs, pids, tmp, checkpoints (default deploy/cluster/target/standalone)
#   CLUSTER_REST_PORT      REST API and web UI port (default 18081)
#   CLUSTER_RPC_PORT       JobManager RPC port (default 16123)
#   CLUSTER_FLINK_HOME     distribution layout: lib/, conf/, tools/ (default deploy/cluster/target/flink)
#   CLUSTER_START_TIMEOUT  seconds to wait for a process to come up (default 120)
#   CLUSTER_OWNER_PID      optional: stop the cluster when this process exits (tests set their JVM's pid, so that
#                          no Flink process outlives a test run, even one killed with SIGKILL)
#   JAVA_HOME or JAVA      the Java 17+ to run
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_DIR=${CLUSTER_RUN_DIR:-$SCRIPT_DIR/target/standalone}
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
STATE_FILE=$RUN_DIR/cluster.env

# Settings of the last start win over the environment: status/submit/stop must reach what start started.
STARTED_LAYOUT='' STARTED_REST_PORT='' STARTED_RPC_PORT=''
if [[ -f "$STATE_FILE" ]]; then
  # shellcheck disable=SC1090
  source "$STATE_FILE"
fi
LAYOUT=${STARTED_LAYOUT:-${CLUSTER_FLINK_HOME:-$SCRIPT_DIR/target/flink}}
REST_PORT=${STARTED_REST_PORT:-${CLUSTER_REST_PORT:-18081}}
RPC_PORT=${STARTED_RPC_PORT:-${CLUSTER_RPC_PORT:-16123}}
START_TIMEOUT=${CLUSTER_START_TIMEOUT:-120}
STOP_TIMEOUT=10
if [[ -z "${JAVA:-}" ]]; then
  if [[ -n "${JAVA_HOME:-}" ]]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
fi

CONF_DIR=$RUN_DIR/conf
LOG_DIR=$RUN_DIR/log
PID_DIR=$RUN_DIR/pids
REST_URL=http://127.0.0.1:$REST_PORT
# No plugins: an empty directory keeps Flink from warning about a missing one.
export FLINK_PLUGINS_DIR=$RUN_DIR/plugins

die() { echo "standalone.sh: $*" >&2; exit 1; }

check_layout() {
  [[ -f "$LAYOUT/lib/flink-runtime-2.2.1.jar" && -f "$LAYOUT/conf/config.yaml" ]] ||
    die "no Flink layout in $LAYOUT; build it first: mvn -B -ntp -pl deploy/cluster -am package -DskipTests"
  "$JAVA" -version >/dev/null 2>&1 || die "cannot run Java ($JAVA); set JAVA_HOME"
}

# The Java 17 --add-opens/--add-exports list every Flink JVM needs (flink-dist's env.java.opts.all), written into
# the layout by the build from the parent pom's flink.java.opens.
java_opens() { tr '\n' ' ' < "$LAYOUT/conf/java-opts"; }

# Our process: alive, not a zombie, and its command line names this run's log directory (a pid file can outlive
# its process and the pid be reused). The JVMs carry it in -Dlog.file, the watchdog as an argument.
is_ours() {
  local pid=$1
  if [[ -d /proc ]]; then
    [[ -r /proc/$pid/cmdline && -r /proc/$pid/stat ]] || return 1
    local stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]] || return 1
    tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -- "$LOG_DIR/" || return 1
  else
    ps -p "$pid" -o command= 2>/dev/null | grep -qF -- "$LOG_DIR/" || return 1
  fi
}

# Prints "name pid" for each pid file of this run.
pid_entries() {
  local f
  shopt -s nullglob
  for f in "$PID_DIR"/*.pid; do
    echo "$(basename "$f" .pid) $(cat "$f")"
  done
  shopt -u nullglob
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$FLINK_PLUGINS_DIR" "$RUN_DIR/tmp" "$RUN_DIR/checkpoints" "$RUN_DIR/savepoints"
  # Keys this script owns are dropped from the layout's config and set from the environment.
  grep -Ev '^[[:space:]]*(jobmanager\.rpc\.address|jobmanager\.rpc\.port|jobmanager\.bind-host|taskmanager\.bind-host|taskmanager\.host|rest\.address|rest\.bind-address|rest\.port|io\.tmp\.dirs|web\.tmpdir|execution\.checkpointing\.dir|execution\.checkpointing\.savepoint-dir)[[:space:]]*:' \
    "$LAYOUT/conf/config.yaml" > "$CONF_DIR/config.yaml"
  cat >> "$CONF_DIR/config.yaml" <<EOF

# Written by standalone.sh start: loopback only, ports and directories of this run.
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $RPC_PORT
jobmanager.bind-host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $REST_PORT
io.tmp.dirs: "$RUN_DIR/tmp"
web.tmpdir: "$RUN_DIR/tmp/web"
execution.checkpointing.dir: "file://$RUN_DIR/checkpoints"
execution.checkpointing.savepoint-dir: "file://$RUN_DIR/savepoints"
EOF
  cp "$LAYOUT"/conf/log4j*.properties "$CONF_DIR/"
}

# Memory flags and dynamic properties as flink-dist's config.sh derives them: BashJavaUtils prints two result lines,
# the JVM parameters, then the -D properties to pass to the entrypoint. Sets JVM_PARAMS and DYNAMIC_PARAMS.
resource_params() {
  local cmd=$1 output results
  if ! output=$("$JAVA" -Xmx128m -classpath "$LAYOUT/lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils \
      "$cmd" --configDir "$CONF_DIR" 2>&1); then
    echo "$output" >&2
    die "BashJavaUtils $cmd failed (memory settings in $CONF_DIR/config.yaml?)"
  fi
  results=$(grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<< "$output" | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://') || true
  if [[ $(grep -c . <<< "$results") -ne 2 ]]; then
    echo "$output" >&2
    die "BashJavaUtils $cmd: expected 2 result lines"
  fi
  JVM_PARAMS=$(head -n 1 <<< "$results")
  DYNAMIC_PARAMS=$(tail -n 1 <<< "$results")
}

# launch <name> <main class> <jvm params> <program args...>: a background JVM detached from this shell (stdin
# from /dev/null, output to files) so that callers waiting on this script's output are not held by it.
launch() {
  local name=$1 main=$2 jvm=$3
  shift 3
  # shellcheck disable=SC2046,SC2086
  nohup "$JAVA" $jvm $(java_opens) \
    "-Dlog.file=$LOG_DIR/$name.log" "-Dlog4j.configurationFile=file:$CONF_DIR/log4j.properties" \
    -classpath "$LAYOUT/lib/*" "$main" "$@" < /dev/null > "$LOG_DIR/$name.out" 2>&1 &
  LAUNCHED_PID=$!
  echo "$LAUNCHED_PID" > "$PID_DIR/$name.pid"
  # Until the forked shell has exec'd the JVM its command line is this script's: wait, so that is_ours holds.
  local deadline=$((SECONDS + 10))
  until is_ours "$LAUNCHED_PID"; do
    kill -0 "$LAUNCHED_PID" 2>/dev/null || break
    ((SECONDS < deadline)) || break
    sleep 0.05
  done
}

rest_tool() {
  "$JAVA" -Xmx64m -XX:TieredStopAtLevel=1 -classpath "$LAYOUT/lib/*:$LAYOUT/tools/*" \
    io.edgestreaming.cluster.FlinkRestTool "$REST_URL" "$@"
}

jobmanager_pid() {
  local pid
  pid=$(cat "$PID_DIR/jobmanager.pid" 2>/dev/null) || return 1
  is_ours "$pid" || return 1
  echo "$pid"
}

print_log_tails() {
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 30 "$f" >&2
  done
}

start_taskmanager() {
  local jm_pid n id
  jm_pid=$(jobmanager_pid) || die "no JobManager of this run is running; use: standalone.sh start"
  n=$(( $(cat "$RUN_DIR/taskmanager.seq" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$RUN_DIR/taskmanager.seq"
  id=taskmanager-$n
  resource_params GET_TM_RESOURCE_PARAMS
  # shellcheck disable=SC2086
  launch "$id" org.apache.flink.runtime.taskexecutor.TaskManagerRunner "$JVM_PARAMS" \
    --configDir "$CONF_DIR" $DYNAMIC_PARAMS -D "taskmanager.resource-id=$id"
  local tm_pid=$LAUNCHED_PID
  if ! rest_tool wait-taskmanager "$id" "$START_TIMEOUT" "$jm_pid" "$tm_pid"; then
    print_log_tails "$LOG_DIR/$id.out" "$LOG_DIR/$id.log"
    return 1
  fi
  echo "started $id (pid $tm_pid), log $LOG_DIR/$id.log"
}

cmd_start() {
  local name pid
  while read -r name pid; do
    if is_ours "$pid"; then die "$name (pid $pid) of $RUN_DIR is still running; use: standalone.sh stop"; fi
  done < <(pid_entries)
  local orphans
  orphans=$(unlisted_jvms | tr '\n' ' ')
  [[ -z "$orphans" ]] || die "JVMs of $RUN_DIR without pid files are running (pids $orphans); use: standalone.sh stop"
  # A fresh run: layout and ports come from the environment again.
  LAYOUT=${CLUSTER_FLINK_HOME:-$SCRIPT_DIR/target/flink}
  REST_PORT=${CLUSTER_REST_PORT:-18081}
  RPC_PORT=${CLUSTER_RPC_PORT:-16123}
  REST_URL=http://127.0.0.1:$REST_PORT
  check_layout
  local port
  for port in "$REST_PORT" "$RPC_PORT"; do
    if port_in_use "$port"; then die "port $port is in use; set CLUSTER_REST_PORT / CLUSTER_RPC_PORT"; fi
  done
  rm -rf "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$RUN_DIR/tmp" "$RUN_DIR/checkpoints" "$RUN_DIR/savepoints" \
    "$RUN_DIR/taskmanager.seq"
  write_config
  printf 'STARTED_LAYOUT=%q\nSTARTED_REST_PORT=%q\nSTARTED_RPC_PORT=%q\n' "$LAYOUT" "$REST_PORT" "$RPC_PORT" \
    > "$STATE_FILE"

  resource_params GET_JM_RESOURCE_PARAMS
  # shellcheck disable=SC2086
  launch jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint "$JVM_PARAMS" \
    --configDir "$CONF_DIR" --executionMode cluster $DYNAMIC_PARAMS
  echo "started jobmanager (pid $LAUNCHED_PID), log $LOG_DIR/jobmanager.log"
  if ! start_taskmanager; then
    print_log_tails "$LOG_DIR/jobmanager.out" "$LOG_DIR/jobmanager.log"
    cmd_stop >&2
    die "cluster did not come up; stopped what was started"
  fi
  if [[ -n "${CLUSTER_OWNER_PID:-}" ]]; then
    nohup bash "$0" watch-owner "$CLUSTER_OWNER_PID" "$LOG_DIR/" < /dev/null > "$LOG_DIR/watchdog.out" 2>&1 &
    echo $! > "$PID_DIR/watchdog.pid"
    echo "watchdog (pid $!) stops the cluster when process $CLUSTER_OWNER_PID exits"
  fi
  echo "cluster running: web UI and REST API at $REST_URL, run directory $RUN_DIR"
}

# Runs in the background (see CLUSTER_OWNER_PID); the log dir argument only marks the process as this run's.
cmd_watch_owner() {
  local owner=$1
  while kill -0 "$owner" 2>/dev/null; do sleep 1; done
  echo "owner process $owner exited: stopping the cluster"
  cmd_stop
}

cmd_start_taskmanager() {
  check_layout
  start_taskmanager || die "TaskManager did not register; see $LOG_DIR"
}

# Exists and is not a zombie. After a kill the kernel drops a dying process's command line before the process is
# gone, so waiting for an exit must not rely on is_ours.
pid_running() {
  local pid=$1
  if [[ -d /proc ]]; then
    local stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z && ${stat:0:1} != X ]]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# Waits until the process (known to be ours) has exited or is a zombie.
await_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while pid_running "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

cmd_kill_taskmanager() {
  local only=${1:-} name pid killed=0
  while read -r name pid; do
    [[ $name == taskmanager-* ]] || continue
    [[ -z "$only" || "$only" == "$name" ]] || continue
    if is_ours "$pid"; then
      kill -9 "$pid" 2>/dev/null || true
      await_exit "$pid" 10 || die "$name (pid $pid) still alive after kill -9"
      echo "killed $name (pid $pid) with SIGKILL"
      killed=$((killed + 1))
    fi
    rm -f "$PID_DIR/$name.pid"
  done < <(pid_entries)
  ((killed > 0)) || die "no running TaskManager${only:+ named $only} in $RUN_DIR"
}

# Pids of JVMs started for this run (-Dlog.file in this run's log dir) that no pid file lists. Linux only.
unlisted_jvms() {
  [[ -d /proc ]] || return 0
  local listed dir pid
  listed=" $(pid_entries | cut -d' ' -f2 | tr '\n' ' ') "
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $listed == *" $pid "* || $pid == "$$" ]] && continue
    tr '\0' ' ' 2>/dev/null < "$dir/cmdline" | grep -qF -- "-Dlog.file=$LOG_DIR/" || continue
    pid_running "$pid" && echo "$pid"
  done
  return 0
}

cmd_stop() {
  local name pid alive=()
  # Watchdog, then TaskManagers, then the JobManager (reverse name order): a JobManager going first makes the
  # TaskManagers retry and log noise while they wait.
  while read -r name pid; do
    if [[ $pid == "$$" ]]; then
      rm -f "$PID_DIR/$name.pid" # the watchdog stopping the cluster
    elif is_ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      alive+=("$name:$pid")
    else
      rm -f "$PID_DIR/$name.pid"
    fi
  done < <(pid_entries | sort -r)
  # JVMs of this run whose pid files are gone (e.g. `mvn clean` while the cluster ran).
  for pid in $(unlisted_jvms); do
    kill -TERM "$pid" 2>/dev/null || true
    alive+=("unlisted-jvm:$pid")
  done
  local entry
  for entry in "${alive[@]}"; do
    name=${entry%%:*}
    pid=${entry##*:}
    if ! await_exit "$pid" "$STOP_TIMEOUT"; then
      kill -9 "$pid" 2>/dev/null || true
      await_exit "$pid" 10 || die "$name (pid $pid) survived SIGKILL"
      echo "stopped $name (pid $pid) with SIGKILL after ${STOP_TIMEOUT} s"
    else
      echo "stopped $name (pid $pid)"
    fi
    rm -f "$PID_DIR/$name.pid"
  done
  ((${#alive[@]} > 0)) || echo "nothing running in $RUN_DIR"
}

cmd_submit() {
  (($# >= 1)) || die "usage: standalone.sh submit <jar> [args...]"
  local jar=$1 out
  shift
  [[ -f "$jar" ]] || die "no such jar: $jar"
  jobmanager_pid > /dev/null || die "no JobManager of this run is running; use: standalone.sh start"
  out=$LOG_DIR/submit-$(date +%Y%m%d-%H%M%S)-$$.out
  local rc=0
  # shellcheck disable=SC2046
  FLINK_CONF_DIR=$CONF_DIR "$JAVA" $(java_opens) \
    "-Dlog.file=$LOG_DIR/client.log" "-Dlog4j.configurationFile=file:$CONF_DIR/log4j-cli.properties" \
    -classpath "$LAYOUT/lib/*" org.apache.flink.client.cli.CliFrontend run -d "$jar" "$@" \
    < /dev/null > "$out" 2>&1 || rc=$?
  cat "$out" >&2
  local job_id
  job_id=$(grep -oE 'JobID [0-9a-f]{32}' "$out" | head -n 1 | cut -d' ' -f2) || true
  if [[ $rc -ne 0 || -z "$job_id" ]]; then
    die "submit failed (exit $rc); CLI log $LOG_DIR/client.log"
  fi
  echo "$job_id"
}

cmd_status() {
  local name pid
  while read -r name pid; do
    if is_ours "$pid"; then echo "process $name $pid alive"; else echo "process $name $pid dead"; fi
  done < <(pid_entries)
  jobmanager_pid > /dev/null || { echo "cluster not running in $RUN_DIR"; return 3; }
  rest_tool status "$@"
}

cmd_wait_running() {
  (($# == 2)) || die "usage: standalone.sh wait-running <jobId> <timeoutSeconds>"
  jobmanager_pid > /dev/null || die "no JobManager of this run is running"
  rest_tool wait-running "$1" "$2"
}

cmd_logs() {
  ls -1 "$LOG_DIR"/* 2>/dev/null || echo "no logs in $LOG_DIR"
}

command=${1:-}
shift || true
case "$command" in
  start) cmd_start ;;
  start-taskmanager) cmd_start_taskmanager ;;
  submit) cmd_submit "$@" ;;
  status) cmd_status "$@" ;;
  wait-running) cmd_wait_running "$@" ;;
  kill-taskmanager) cmd_kill_taskmanager "$@" ;;
  stop) cmd_stop ;;
  logs) cmd_logs ;;
  watch-owner) cmd_watch_owner "$@" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
