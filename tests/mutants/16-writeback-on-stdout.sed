# breaks: N-5 the writeback's stdout is not sent to stderr, so its output corrupts the one-JSON-line-per-repo stdout.
# suites: test_cycle
# also: C-16-1 T04-1 T04-3 T04-4 N-3 S-3 S-4 S-5 S-6 S-8: the writeback's output lands in the JSON stream, so every clause that reads a fix or run report cannot parse it
s/pushseal-cmd "\$top" "\$1" >&2 9>&-/pushseal-cmd "$top" "$1" 9>\&-/
