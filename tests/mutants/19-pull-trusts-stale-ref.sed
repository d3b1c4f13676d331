# breaks: P-PULL-9 a pull whose fetch fails goes on with the last-fetched tracking ref instead of failing.
# suites: test_pull
s/^\tfetch_upstream "\$dl_net" || { say_fail pull-ff; return; }$/\tfetch_upstream "$dl_net" || :/
