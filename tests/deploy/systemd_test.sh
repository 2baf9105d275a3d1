#!/usr/bin/env bash
# deploy/systemd/pprof-exporter.service: systemd-analyze verify (any message
# counts as a failure: verify exits 0 on unknown keys and bad values),
# systemd-analyze security, and the hardening the unit promises.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
UNIT="$DEPLOY/systemd/pprof-exporter.service"

# Directives whose value the unit must keep. Plain grep: no systemd needed.
required=(
  'ExecStart=/usr/local/bin/pprof_exporter --config.file=/etc/pprof-exporter/config.yml'
  'ExecReload=/bin/kill -HUP $MAINPID'
  'Restart=on-failure'
  'DynamicUser=yes'
  'ProtectSystem=strict'
  'ProtectHome=yes'
  'PrivateTmp=yes'
  'PrivateDevices=yes'
  'NoNewPrivileges=yes'
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
  'CapabilityBoundingSet='
  'SystemCallFilter=@system-service'
  'MemoryDenyWriteExecute=yes'
  'LockPersonality=yes'
  'RestrictNamespaces=yes'
  'ProtectKernelTunables=yes'
  'ProtectKernelModules=yes'
  'ProtectKernelLogs=yes'
  'ProtectControlGroups=yes'
  'WantedBy=multi-user.target'
)
for line in "${required[@]}"; do
  if grep -qxF -- "$line" "$UNIT"; then pass "unit has $line"; else fail "unit lacks the line: $line"; fi
done

if ! need systemd-analyze; then
  skip_tool systemd-analyze "systemd-analyze not installed (Debian package: systemd); verify and security checks not run"
  finish; exit
fi

# verify insists that ExecStart's binary exists; check everything else with
# a copy that runs /bin/true.
testable="$TMP/pprof-exporter.service"
sed 's|^ExecStart=/usr/local/bin/pprof_exporter |ExecStart=/bin/true |' "$UNIT" >"$testable"

verify_clean() {
  local out
  out=$(systemd-analyze verify --man=no "$1" 2>&1) || { echo "$out"; return 1; }
  [[ -z "$out" ]] || { echo "$out"; return 1; }
}
run "systemd-analyze verify (ExecStart pointed at /bin/true)" verify_clean "$testable"

# The real file may only complain about the missing binary.
only_missing_binary() {
  local out
  out=$(systemd-analyze verify --man=no "$UNIT" 2>&1 || true)
  ! grep -v 'pprof_exporter is not executable' <<<"$out" | grep -q .
}
run "systemd-analyze verify of the real unit: nothing but the missing binary" only_missing_binary

# Exposure is 0 (locked down) to 10 (unprotected); the unit scores ~1.1.
# --threshold is in tenths.
run "systemd-analyze security exposure <= 2.0" \
  systemd-analyze security --offline=yes --threshold=20 "$testable"

# The checks above must notice damage.
sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$testable" >"$TMP/typo.service"
run_fails "verify catches a misspelt directive" verify_clean "$TMP/typo.service"
grep -vE '^(Protect|Private|Restrict|SystemCall|Capability|NoNew|MemoryDeny|LockPersonality|DynamicUser|DevicePolicy|ProcSubset|UMask|RemoveIPC)' \
  "$testable" >"$TMP/soft.service"
run_fails "security threshold catches removed hardening" \
  systemd-analyze security --offline=yes --threshold=20 "$TMP/soft.service"

finish
