#!/bin/bash
# SIMULATED lab plumbing (not part of Mooring's production path): sshd's ForceCommand on every
# lab node. It records each command the node receives (so tests can count side effects), applies
# injected faults, then runs the command exactly as a real host's shell would.
lab="$1"
node="$2"
dir="$lab/nodes/$node"
export MOORING_LAB_NODE_DIR="$dir"
printf '%s\t%s\n' "$(date +%s.%N)" "${SSH_ORIGINAL_COMMAND:-<interactive>}" >> "$dir/commands.log"
if [ -f "$dir/faults/slow-ssh" ]; then
  sleep "$(cat "$dir/faults/slow-ssh")"
fi
# Drops this SSH connection after N seconds, mid-command, as a network cut would: SIGKILL to the
# sshd process serving it. Only if that pid still is sshd (the session may have ended and the pid
# been reused).
cut_after() {
  local session=$PPID
  ( sleep "$1"; case "$(cat "/proc/$session/comm" 2>/dev/null)" in sshd*) kill -KILL "$session" ;; esac ) >/dev/null 2>&1 &
}
if [ -f "$dir/faults/cut-ssh" ]; then
  cut_after "$(cat "$dir/faults/cut-ssh")"
fi
# A one-time cut is taken by exactly one session: the rename is atomic.
taken="$dir/faults/.cut-ssh-once.$$"
if mv "$dir/faults/cut-ssh-once" "$taken" 2>/dev/null; then
  cut_after "$(cat "$taken")"
  rm -f "$taken"
fi
if [ -z "${SSH_ORIGINAL_COMMAND:-}" ]; then
  exec /bin/bash -l
fi
exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"
