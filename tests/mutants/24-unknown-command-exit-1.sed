# breaks: P-PROTO-1 an unknown command exits 1 (an ordinary failure), not 2 (a usage error).
# suites: test_protocol
s/^\tusage_error "unknown command '\$cmd'"$/\techo "$PROG: unknown command" >\&2; exit 1/
