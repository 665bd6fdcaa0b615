#!/bin/sh
# A $BENCH_OPERATOR_WRAPPER that runs the operator under a memory limit, as a Deployment's
# limits.memory does: it moves itself into a memory cgroup of $BENCH_MEMORY_LIMIT_MIB MiB
# (cgroup v2, else v1's memory controller; needs root) and execs the operator's command line,
# so that the pid stays the operator's. For example:
#
#   BENCH_MEMORY_LIMIT_MIB=192 BENCH_OPERATOR_WRAPPER=bench/memory-cgroup-wrapper.sh \
#     npm run bench -- --only footprint --footprint-hosts 1000 --settle 5 --out /tmp/limited
#
# The cgroup is left in place for its counters (the v1 memory.max_usage_in_bytes and
# memory.oom_control's oom_kill, the v2 memory.peak and memory.events' oom_kill); its path is
# printed on standard error. Remove it with rmdir once the operator has exited.
set -eu
limit=${BENCH_MEMORY_LIMIT_MIB:?set BENCH_MEMORY_LIMIT_MIB to the memory limit in MiB}
case $limit in
  '' | *[!0-9]*) echo "memory-cgroup-wrapper: BENCH_MEMORY_LIMIT_MIB must be a whole number of MiB, got '$limit'" >&2; exit 2 ;;
esac
name="bmc-operator-bench-$limit-$$"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  dir="/sys/fs/cgroup/$name"
  mkdir "$dir"
  echo "${limit}M" > "$dir/memory.max"
  echo 0 > "$dir/memory.swap.max" 2>/dev/null || true
elif [ -d /sys/fs/cgroup/memory ]; then
  dir="/sys/fs/cgroup/memory/$name"
  mkdir "$dir"
  echo "${limit}M" > "$dir/memory.limit_in_bytes"
else
  echo "memory-cgroup-wrapper: no memory cgroup controller under /sys/fs/cgroup" >&2
  exit 2
fi
echo "memory-cgroup-wrapper: $dir" >&2
echo $$ > "$dir/cgroup.procs"
exec "$@"
