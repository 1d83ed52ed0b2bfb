#!/bin/bash
# Unpacks Debian bookworm's python3-torch (PyTorch 1.13.1) and the part of its dependency
# closure that is not installed on this machine into a private directory, without installing
# anything system-wide: `apt-get download` + `dpkg -x`. scripts/torch/python runs Debian's
# /usr/bin/python3 against the result.
#
#   scripts/torch/unpack-torch.sh            # into $MIPFLOW_TORCH_CACHE or ~/.cache/mipflow-torch
#   scripts/torch/unpack-torch.sh --list     # only print the packages it would unpack
#   MIPFLOW_TORCH_SUITE=trixie scripts/torch/unpack-torch.sh   # trixie's PyTorch 2.6, see below
#
# Idempotent: does nothing when the cache already holds a complete unpack (marker file
# .unpacked). The closure is decided with `apt-cache depends` (Depends and Pre-Depends only,
# no Recommends) and `dpkg-query`: a dependency that is installed, or any of whose alternatives
# (or providers, for a virtual package) is installed, is left to the system; otherwise the first
# available alternative is downloaded and its own dependencies are walked in turn.
# Needs `apt-get update` to have run once (done here when the package lists do not know
# python3-torch; that needs root). On this project's machine: 121 packages, 110 MB of .debs
# (deleted after unpacking), 463 MB unpacked.
#
# MIPFLOW_TORCH_SUITE=trixie (default cache ~/.cache/mipflow-torch26): Debian trixie's
# python3-torch (PyTorch 2.6) with its whole closure, C library, loader and Python 3.13 included,
# since trixie's binaries need trixie's glibc. apt runs on a private state directory
# ($CACHE/apt: its own sources.list naming trixie, package lists, an empty dpkg status, so nothing
# counts as installed) and never touches the system's. scripts/torch/python26 runs the result
# through trixie's own ld-linux; bookworm's unpack and /usr/bin/python3 stay as they are.
set -euo pipefail

SUITE=${MIPFLOW_TORCH_SUITE:-bookworm}
case "$SUITE" in
  bookworm) CACHE=${MIPFLOW_TORCH_CACHE:-$HOME/.cache/mipflow-torch} ;;
  trixie) CACHE=${MIPFLOW_TORCH_CACHE:-$HOME/.cache/mipflow-torch26} ;;
  *) echo "unpack-torch: MIPFLOW_TORCH_SUITE is bookworm or trixie, not '$SUITE'" >&2; exit 1 ;;
esac
ROOTPKG=python3-torch
MARK="$CACHE/.unpacked"

if [ -f "$MARK" ] && [ "${1:-}" != "--list" ]; then
  exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then
  flock 9
  if [ -f "$MARK" ] && [ "${1:-}" != "--list" ]; then exit 0; fi   # another run finished meanwhile
fi

APT=()   # options that point apt at the private state of a foreign suite (none for bookworm)
if [ "$SUITE" != bookworm ]; then
  A="$CACHE/apt"
  mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" "$A/parts"
  echo "deb http://deb.debian.org/debian $SUITE main" >"$A/sources.list"
  : >"$A/status"
  APT=(-o "Dir::Etc::sourcelist=$A/sources.list" -o "Dir::Etc::sourceparts=$A/parts" -o "Dir::State=$A/state"
       -o "Dir::State::status=$A/status" -o "Dir::Cache=$A/cache" -o "Dir::Etc::preferencesparts=$A/parts"
       -o "APT::Architecture=$(dpkg --print-architecture)")
  if [ ! -f "$A/state/lists/.updated" ]; then
    apt-get "${APT[@]}" update -qq
    touch "$A/state/lists/.updated"
  fi
fi
apt-cache() { command apt-cache "${APT[@]}" "$@"; }

known() {  # true when apt has an installation candidate for $1
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/{print $2; exit}')
  [ -n "$c" ] && [ "$c" != "(none)" ]
}
if ! known "$ROOTPKG" && [ "$SUITE" = bookworm ]; then
  echo "unpack-torch: the package lists do not know $ROOTPKG; running apt-get update" >&2
  apt-get update -qq
fi
if ! known "$ROOTPKG"; then
  echo "unpack-torch: no candidate for $ROOTPKG in $SUITE (is this Debian bookworm?)" >&2
  exit 1
fi

declare -A have=()   # bookworm: the packages installed on this machine, read once; another suite: none
if [ "$SUITE" = bookworm ]; then
  while read -r name status; do
    if [ "$status" = installed ]; then have[${name%%:*}]=1; fi
  done < <(dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' 2>/dev/null)
fi
installed() { [ -n "${have[${1%%:*}]:-}" ]; }   # ":any"/":amd64" suffix allowed

# Prints one line per dependency group of each package given: the package, a tab, then the
# alternatives, space separated (a virtual package replaced by its providers). One apt-cache
# call per level of the walk: each call takes a second or more on a busy machine.
groups() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
      --no-enhances "$@" 2>/dev/null | awk '
    function flush() { if (cur != "" && !alt) { print pkg "\t" substr(cur, 2); cur = "" } }
    $1 ~ /^\|?(Pre)?Depends:$/ {
      flush()
      alt = ($1 ~ /^\|/)
      if ($2 !~ /^</) cur = cur " " $2
      next
    }
    /^    / { cur = cur " " $1; next }
    /^[^ ]/ { flush(); alt = 0; cur = ""; pkg = $1; next }
    { flush() }
    END { alt = 0; flush() }'
}

# Prints the packages among the arguments that have an installation candidate.
available() {
  apt-cache policy "$@" 2>/dev/null | awk '
    /^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
    /^  Candidate:/ { if ($2 != "(none)") print name }'
}

declare -A chosen=([$ROOTPKG]=1)
level=("$ROOTPKG")
order=()
while [ ${#level[@]} -gt 0 ]; do
  order+=("${level[@]}")
  open=()
  while IFS=$'\t' read -r pkg alts; do
    ok=0
    for a in $alts; do
      a=${a%%:*}
      if [ -n "${chosen[$a]:-}" ] || installed "$a"; then ok=1; break; fi
    done
    [ $ok = 1 ] || open+=("$pkg"$'\t'"$alts")
  done < <(groups "${level[@]}")
  level=()
  [ ${#open[@]} -gt 0 ] || break
  declare -A avail=()
  while read -r a; do avail[$a]=1; done < <(available $(printf '%s\n' "${open[@]}" | cut -f2 | tr ' ' '\n' | sed 's/:.*//' | sort -u))
  for g in "${open[@]}"; do
    pkg=${g%%$'\t'*}
    pick=""
    for a in ${g#*$'\t'}; do
      a=${a%%:*}
      if [ -n "${chosen[$a]:-}" ]; then pick=""; continue 2; fi
      if [ -z "$pick" ] && [ -n "${avail[$a]:-}" ]; then pick=$a; fi
    done
    if [ -z "$pick" ]; then
      echo "unpack-torch: cannot satisfy '${g#*$'\t'}' (needed by $pkg)" >&2
      exit 1
    fi
    chosen[$pick]=1
    level+=("$pick")
  done
  unset avail
done

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${order[@]}"
  exit 0
fi
echo "unpack-torch: ${#order[@]} packages to unpack into $CACHE" >&2
DEBS="$CACHE/debs"
STAGE="$CACHE/root.partial"
rm -rf "$STAGE"
mkdir -p "$DEBS" "$STAGE"
# As root under a private $HOME apt-get warns that it downloads unsandboxed (the _apt user cannot
# reach the directory): harmless.
need=()
for p in "${order[@]}"; do
  ls "$DEBS/${p}"_*.deb >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  (cd "$DEBS" && apt-get "${APT[@]}" download -q "${need[@]}")
fi
for p in "${order[@]}"; do
  deb=$(ls "$DEBS/${p}"_*.deb | sort -V | tail -n 1)
  dpkg -x "$deb" "$STAGE"
done
printf '%s\n' "${order[@]}" >"$STAGE/PACKAGES"
rm -rf "$CACHE/root"
mv "$STAGE" "$CACHE/root"
rm -rf "$DEBS"
if [ "$SUITE" != bookworm ]; then
  # Debian's update-alternatives links for BLAS and LAPACK, which an unpack (no postinst) does not
  # make, and which the loader's --library-path cannot stand in for when the machine has none.
  L="$CACHE/root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
  for lib in libblas.so.3 liblapack.so.3; do
    if [ ! -e "$L/$lib" ]; then
      real=$(ls "$L"/*/"$lib" 2>/dev/null | head -n 1 || true)
      [ -z "$real" ] || ln -s "${real#$L/}" "$L/$lib"
    fi
  done
fi
touch "$MARK"
echo "unpack-torch: done ($(du -sh "$CACHE/root" | cut -f1) in $CACHE/root)" >&2
