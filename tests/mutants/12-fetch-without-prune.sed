# breaks: P-REMOTE-9 the fetch does not prune, so a deleted upstream branch is counted from its stale tracking ref.
# suites: test_count
# with: prune
s/fetch -q --prune --no-write-fetch-head/fetch -q --no-write-fetch-head/
