# breaks: P-DEADLINE-1 network calls run without a deadline, so a server that never answers hangs the pull.
# suites: test_deadline
s/^\ttimeout -k 2 "\$_dl" git /\tgit /
