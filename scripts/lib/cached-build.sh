# Sourced by the build scripts whose result is one cache directory per version (build-temporal.sh,
# build-helm.sh, build-local-path-provisioner.sh): a version already in the cache is only checked;
# otherwise one build at a time per cache (a lock), in a temporary directory next to the cache,
# renamed into place only once it passes the check, so a killed or failed build never leaves a
# half-filled entry.
#
# The sourcing script defines say, fail and `cached_ok DIR` (true when DIR holds a good build of
# $version), sets cache_root, dest, version and what ("Helm 4.3.2"), then calls
#   cached_build BUILD_FUNCTION
# BUILD_FUNCTION WORK builds into WORK/out (its log, messages and check are its own).

cached_build() {
  local build=$1 started
  if cached_ok "$dest"; then
    say "$what cached in $dest"
    return 0
  fi
  # Under the lock, a .build-* directory is left from a build that was killed (SIGKILL skips the trap).
  mkdir -p "$cache_root"
  exec 9>"$cache_root/.lock"
  flock 9
  rm -rf "$cache_root"/.build-*
  if cached_ok "$dest"; then
    say "$what cached in $dest (built by another set-up meanwhile)"
    return 0
  fi
  work=$(mktemp -d "$cache_root/.build-$version.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must remove this build's directory
  trap "rm -rf '$work'" EXIT
  started=$SECONDS
  "$build" "$work"
  # (The build directory goes with the trap: the message says what the check wanted.)
  cached_ok "$work/out" || fail "the $what build ran, but its binaries are missing or do not report version $version." \
    "Run the build script again; if it fails the same way, its build() names the binaries and cached_ok the check."
  # Into place in one rename. An old entry that failed the check is moved aside first, because
  # rename(2) does not replace a non-empty directory.
  if [ -e "$dest" ]; then mv -T "$dest" "$work/old"; fi
  mv -T "$work/out" "$dest"
  rm -rf "$work"
  trap - EXIT
  say "$what built in $((SECONDS - started)) s into $dest ($(du -sh "$dest" | cut -f1))"
}
