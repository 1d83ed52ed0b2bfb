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
# Every package a list names (data/lists/README.md says what each one gives and its licence).
PKGS="lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds lxqt-themes \
plasma-workspace-wallpapers mate-screensaver-common kphotoalbum gnome-control-center-data \
palapeli-data scratch opencv-doc tuxpaint-data tuxtype-data stellarium-data gimp-help-en \
kodi-data scribus-template digikam-data afterstep-data inkscape-tutorials sddm-theme-maldives \
hugin-data"
# .verified holds the digest of the sum files it was verified against: a list that grew or changed
# since then is fetched again.
STAMP=$(cat "$LISTS/photos-train.sha256" "$LISTS/photos-dev.sha256" | sha256sum | cut -d' ' -f1)
if [ -f "$DEST/.verified" ] && [ "$(cat "$DEST/.verified")" = "$STAMP" ]; then
  echo "photos already fetched and verified in $DEST"
  exit 0
fi
mkdir -p "$DEST/.debs"
# shellcheck disable=SC2086  # PKGS is a list of package names
( cd "$DEST/.debs" && apt-get download $PKGS )
for p in $PKGS; do mkdir -p "$DEST/$p"; dpkg-deb -x "$DEST/.debs/${p}"_*.deb "$DEST/$p"; done
( cd "$DEST" && sha256sum --quiet -c "$LISTS/photos-train.sha256" && sha256sum --quiet -c "$LISTS/photos-dev.sha256" )
rm -rf "$DEST/.debs"
echo "$STAMP" > "$DEST/.verified"
echo "photos fetched and verified in $DEST"
