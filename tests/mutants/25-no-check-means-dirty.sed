# breaks: N-1 without --check every in-sync repo is judged as needing action, so the writeback runs every tick.
# suites: test_cycle
s/^\tif \[ "\$needs" = 0 \] && \[ "\$has_check" = 1 \]; then$/\t[ "$has_check" = 1 ] || needs=1\n\tif [ "$needs" = 0 ] \&\& [ "$has_check" = 1 ]; then/
