# breaks: N-5 the writeback's stdout is not sent to stderr, so its output corrupts the one-JSON-line-per-repo stdout.
# suites: test_cycle
s/pushseal-cmd "\$top" "\$1" >&2 9>&-/pushseal-cmd "$top" "$1" 9>\&-/
