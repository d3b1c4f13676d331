# breaks: P-REMOTE-11 the fetch writes the tracking ref from the server's advertisement without downloading the commit (fsck: invalid sha1 pointer).
# suites: test_count test_pull
s/^\tgnet "\$1" fetch -q --prune --no-write-fetch-head --no-recurse-submodules -- "\$remote" >&2$/\t_o=$(gnet "$1" ls-remote -- "$remote" "$merge" | cut -f1); [ -z "$_o" ] || printf '%s\\n' "$_o" > "$gitdir\/$tracking"/
