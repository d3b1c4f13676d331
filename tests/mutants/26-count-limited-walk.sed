# breaks: P-LOCAL-8 counts use git's limited walk (rev-list --count A..B without a commit-graph), which over-counts on skewed commit dates.
# suites: test_count
# also: P-REMOTE-10: the same date-limited walk overcounts "behind" on the skewed history
/^count_range() {$/a\
	g rev-list --count "$1..$2"; return
