#!/bin/sh
# Installs what the tests need beyond Maven: Debian's chromium, which AuditReportTest uses to
# render the audit report headless, and a font for its text (chromium only recommends one; the
# rest of its recommends are desktop services). Idempotent and quiet: does nothing when it is
# already there.
set -eu
if [ -x /usr/bin/chromium ] && dpkg -s chromium fonts-liberation >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "installed $(/usr/bin/chromium --version 2>/dev/null)"
