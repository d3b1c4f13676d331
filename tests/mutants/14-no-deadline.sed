# breaks: P-DEADLINE-1 network calls run without a deadline, so a server that never answers hangs the pull.
# suites: test_deadline
# also: P-DEADLINE-2 P-DEADLINE-3 P-DEADLINE-6: without the timeout the push, remote-ahead and a hanging hook wait forever as well
s/^\ttimeout -k 2 "\$_dl" git /\tgit /
