# Per-step timing for the baseline scripts (sourced): `step NAME` starts a step, and every ssh_
# call is counted in the current one. With BENCH_TIMES set to a file, each finished step appends
# "NAME MILLISECONDS SSH_CALLS" to it (bench/breakdown.ts reads it); without it nothing is written.
_step=""; _t0=0
_now() { local t=${EPOCHREALTIME//[.,]/}; echo $(( t / 1000 )); }
# ssh_ often runs in a command substitution (a subshell): count its calls in a file, not a variable.
_calls() { [ -n "${BENCH_TIMES:-}" ] && [ -f "$BENCH_TIMES.calls" ] && wc -c < "$BENCH_TIMES.calls" || echo 0; }
_flush() {
  if [ -n "$_step" ] && [ -n "${BENCH_TIMES:-}" ]; then echo "$_step $(( $(_now) - _t0 )) $(( $(_calls) ))" >> "$BENCH_TIMES"; fi
  _step=""
}
step() { _flush; _step="$1"; _t0=$(_now); [ -n "${BENCH_TIMES:-}" ] && : > "$BENCH_TIMES.calls"; return 0; }
ssh_() {
  [ -n "${BENCH_TIMES:-}" ] && printf . >> "$BENCH_TIMES.calls"
  ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$1" "$2"
}
trap _flush EXIT
