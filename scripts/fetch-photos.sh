#!/bin/sh
# Fills data/photos (or $1) with the training and dev photographs listed in data/lists/
# (photos-train.lst, photos-dev.lst), taken from Debian bookworm packages by package name
# (apt-get download + dpkg-deb -x: nothing is installed, no dependencies are pulled in), then
# verifies every photo against the recorded SHA-256 sums (data/lists/photos-*.sha256).
# MIPFLOW_PHOTO_LISTS names another directory holding those four files.
# Needs Debian's package repositories: `apt-get update` must have run once on the machine.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/data/photos}
LISTS=${MIPFLOW_PHOTO_LISTS:-$ROOT/data/lists}
PKGS="lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds lxqt-themes \
plasma-workspace-wallpapers mate-screensaver-common kphotoalbum gnome-control-center-data \
palapeli-data"
if [ -f "$DEST/.verified" ]; then
  echo "photos already fetched and verified in $DEST"
  exit 0
fi
mkdir -p "$DEST/.debs"
# shellcheck disable=SC2086  # PKGS is a list of package names
( cd "$DEST/.debs" && apt-get download $PKGS )
for p in $PKGS; do mkdir -p "$DEST/$p"; dpkg-deb -x "$DEST/.debs/${p}"_*.deb "$DEST/$p"; done
( cd "$DEST" && sha256sum --quiet -c "$LISTS/photos-train.sha256" && sha256sum --quiet -c "$LISTS/photos-dev.sha256" )
rm -rf "$DEST/.debs"
touch "$DEST/.verified"
echo "photos fetched and verified in $DEST"
