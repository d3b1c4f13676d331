# breaks: N-1 without --check every in-sync repo is judged as needing action, so the writeback runs every tick.
# suites: test_cycle
# also: N-5 N-6: a clean repo without a check now runs the writeback, which the many-repo tick (N-5) and the pulled-then-clean repo (N-6) see
s/^\tif \[ "\$needs" = 0 \] && \[ "\$has_check" = 1 \]; then$/\t[ "$has_check" = 1 ] || needs=1\n\tif [ "$needs" = 0 ] \&\& [ "$has_check" = 1 ]; then/
