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
if [ -f "$dir/faults/cut-ssh" ]; then
  # Drop this SSH connection after N seconds, mid-command, as a network cut would.
  ( sleep "$(cat "$dir/faults/cut-ssh")"; kill -KILL "$PPID" ) >/dev/null 2>&1 &
fi
if [ -z "${SSH_ORIGINAL_COMMAND:-}" ]; then
  exec /bin/bash -l
fi
exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"
