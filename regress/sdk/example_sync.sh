#!/bin/sh
#
# example_sync.sh MANPAGE FILE ...: check that each example program is
# shown in MANPAGE exactly as it is (less its licence), as a literal
# display; with -p FILE, print that display's text instead.  Run by
# `make lint', so that the page and the compiled examples never drift.

# The file without its leading licence comment, escaped for mdoc(7).
shown()
{
	awk 'NR == 1 && /^\/\*$/ { hdr = 1 }
	    hdr { if (/^ \*\/$/) { hdr = 0; gap = 1 }; next }
	    gap && /^$/ { gap = 0; next }
	    { gap = 0; print }' "$1" |
	    sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
}

if [ "$1" = -p ]; then
	shown "$2"
	exit
fi

man=$1
shift
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '/^\.Bd -literal/ { n++; inb = 1; next }
    /^\.Ed/ { inb = 0; next }
    inb { print > (dir "/block." n) }' "$man"
rc=0
for f in "$@"; do
	shown "$f" >"$tmp/want"
	found=0
	for b in "$tmp"/block.*; do
		[ -f "$b" ] && cmp -s "$tmp/want" "$b" && found=1
	done
	if [ $found -eq 0 ]; then
		echo "$man: no literal display is $f as it is" >&2
		rc=1
	fi
done
exit $rc
