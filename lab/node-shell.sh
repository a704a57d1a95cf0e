#!/bin/bash
# SIMULATED lab plumbing (not part of Mooring's production path): sshd's ForceCommand on every
# lab node. It records each command the node receives (so tests can count side effects) and
# applies injected faults, then runs the command exactly as a real host's shell would.
lab="$1"
node="$2"
dir="$lab/nodes/$node"
printf '%s\t%s\n' "$(date +%s.%N)" "${SSH_ORIGINAL_COMMAND:-<interactive>}" >> "$dir/commands.log"
if [ -f "$dir/faults/slow-ssh" ]; then
  sleep "$(cat "$dir/faults/slow-ssh")"
fi
if [ -z "${SSH_ORIGINAL_COMMAND:-}" ]; then
  exec /bin/bash -l
fi
exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"
