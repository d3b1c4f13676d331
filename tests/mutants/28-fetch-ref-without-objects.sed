# breaks: P-REMOTE-11 the fetch writes the tracking ref from the server's advertisement without downloading the commit (fsck: invalid sha1 pointer).
# suites: test_count test_pull
# also: P-REMOTE-2 P-REMOTE-4 P-REMOTE-5 P-REMOTE-7 P-REMOTE-8 P-REMOTE-10 P-PULL-1 P-PULL-9 P-PULL-10 P-PULL-11 P-PULL-12 P-PULL-13 P-PULL-19 P-PULL-20 P-PULL-24: the tracking ref then names commits never fetched, so every count and pull after a fetch fails
s/^\tgnet "\$1" fetch -q --prune --no-write-fetch-head --no-recurse-submodules -- "\$remote" >&2$/\t_o=$(gnet "$1" ls-remote -- "$remote" "$merge" | cut -f1); [ -z "$_o" ] || printf '%s\\n' "$_o" > "$gitdir\/$tracking"/
