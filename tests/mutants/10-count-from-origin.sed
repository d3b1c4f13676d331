# breaks: P-REMOTE-7 remote-ahead fetches and counts the remote called origin, not the branch's configured remote.
# suites: test_count
s|^\t\tfetch_upstream "\$dl_fetch" # best-effort.*$|\t\tremote=origin tracking=refs/remotes/origin/$branch; fetch_upstream "$dl_fetch"|
