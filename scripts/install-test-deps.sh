#!/bin/sh
# Installs what the tests need beyond Maven: Debian's chromium, which AuditReportTest uses to
# render the audit report headless, and a font for its text (chromium only recommends one; the
# rest of its recommends are desktop services); and Debian's shellcheck, which ShellScriptsTest
# runs over bin/, deploy/ and scripts/: unpacked into target/tools/shellcheck (apt-get download +
# dpkg-deb -x, nothing installed system-wide) unless a shellcheck is on the PATH already.
# Idempotent and quiet: does nothing when all is there.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
UPDATED=""
if ! { [ -x /usr/bin/chromium ] && dpkg -s chromium fonts-liberation >/dev/null 2>&1; }; then
  $SUDO apt-get update -qq
  UPDATED=1
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
  echo "installed $(/usr/bin/chromium --version 2>/dev/null)"
fi
SHELLCHECK_DIR="$ROOT/target/tools/shellcheck"
if ! command -v shellcheck >/dev/null 2>&1 && [ ! -x "$SHELLCHECK_DIR/usr/bin/shellcheck" ]; then
  DEBS=$(mktemp -d)
  if ! (cd "$DEBS" && apt-get download -qq shellcheck >/dev/null 2>&1); then
    [ -n "$UPDATED" ] || $SUDO apt-get update -qq
    (cd "$DEBS" && apt-get download -qq shellcheck >/dev/null 2>&1)
  fi
  mkdir -p "$SHELLCHECK_DIR"
  dpkg-deb -x "$DEBS"/shellcheck_*.deb "$SHELLCHECK_DIR"
  rm -rf "$DEBS"
  echo "unpacked $("$SHELLCHECK_DIR/usr/bin/shellcheck" --version | sed -n 's/^version: /shellcheck /p') into $SHELLCHECK_DIR"
fi
